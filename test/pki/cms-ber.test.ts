import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPkcs12 } from '../../src/pki/pfx.js';
import { Pkcs12Error } from '../../src/pki/pkcs12-errors.js';
import { CmsError, contentOf, parseSignedData, verifySignerInfo } from '../../src/pki/signed-data.js';
import { parseTimeStampToken, verifyTimeStampToken } from '../../src/pki/timestamp-token.js';
import { crlSignedBy, CrlError, parseCrl } from '../../src/revocation/crl.js';
import { checkOcspSigner, OcspError, parseOcspResponse } from '../../src/revocation/ocsp.js';
import { tempDir } from '../helpers/tools.js';
import { cmsSign, isIndefinite, openssl, selfSigned, toBer } from './openssl-pki.js';

const rsa = selfSigned('ber-rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
const data = randomBytes(20_000);

describe('CMS in BER', () => {
  it('reads and verifies what `openssl cms -sign -stream` writes (indefinite lengths, chunked eContent)', () => {
    const cms = cmsSign(rsa, data, ['-stream', '-md', 'sha256']);
    expect(isIndefinite(cms)).toBe(true);
    const parsed = parseSignedData(cms);
    expect(parsed.encapsulatedContent?.equals(data)).toBe(true);
    const result = verifySignerInfo(parsed, parsed.signers[0]!, contentOf([data]));
    expect(result).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    expect(result.signerCertificate?.equals(rsa.certDer)).toBe(true);
    expect(verifySignerInfo(parsed, parsed.signers[0]!, contentOf([randomBytes(100)])).messageDigestMatches).toBe(false);
  });

  it('verifies signed attributes sent in BER over their DER encoding (RFC 5652 5.4)', () => {
    const der = cmsSign(rsa, data, ['-md', 'sha256']);
    const ber = toBer(der);
    const signer = parseSignedData(ber).signers[0]!;
    expect(signer.signedAttrsEncoding).toBe('ber');
    expect(signer.signedAttrsAsSent!.equals(signer.signedAttrsDer!)).toBe(false);
    expect(signer.signedAttrsDer!.equals(parseSignedData(der).signers[0]!.signedAttrsDer!)).toBe(true);
    const parsed = parseSignedData(ber);
    const result = verifySignerInfo(parsed, parsed.signers[0]!, contentOf([data]));
    expect(result).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    expect(result.problems.join(' ')).toMatch(/sent in BER/);
  });

  it('keeps the exact signed-attribute bytes: one changed attribute byte breaks the signature', () => {
    const der = cmsSign(rsa, data, ['-md', 'sha256', '-nodetach']);
    const parsed = parseSignedData(der);
    const signer = parsed.signers[0]!;
    expect(signer.signedAttrsEncoding).toBe('der');
    const at = der.indexOf(signer.signedAttrsDer!.subarray(2, 40));
    const changed = Buffer.from(der);
    // the signing-time digits are inside the signed attributes
    const time = changed.indexOf(Buffer.from('Z', 'latin1'), at) - 1;
    changed[time] = changed[time] === 0x30 ? 0x31 : 0x30;
    const reparsed = parseSignedData(changed);
    expect(verifySignerInfo(reparsed, reparsed.signers[0]!, contentOf([data])).signatureValid).toBe(false);
  });

  it('turns hostile input into CmsError, never another exception', () => {
    const cms = cmsSign(rsa, data, ['-stream']);
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('not asn.1 at all'),
      cms.subarray(0, cms.length - 10),
      Buffer.concat(Array.from({ length: 300 }, () => Buffer.from([0x30, 0x80]))),
      Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
      Buffer.alloc(17 * 1024 * 1024, 0x30),
    ];
    for (const input of inputs) expect(() => parseSignedData(input)).toThrow(CmsError);
    // what follows the CMS in /Contents is padding, zeros or not (some writers encrypt the placeholder)
    expect(parseSignedData(Buffer.concat([cms, Buffer.alloc(100)])).signers).toHaveLength(1);
    expect(parseSignedData(Buffer.concat([cms, Buffer.from([1, 2, 3])])).signers).toHaveLength(1);
  });
});

describe('timestamp tokens, OCSP responses and CRLs from openssl', () => {
  const dir = tempDir('tsa');
  const tsa = selfSigned('tsa', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['extendedKeyUsage=critical,timeStamping']);
  writeFileSync(path.join(dir, 'serial'), '01\n');
  writeFileSync(
    path.join(dir, 'tsa.cnf'),
    `[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = ${dir}/serial\nsigner_cert = ${tsa.cert}\nsigner_key = ${tsa.key}\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n`,
  );

  it('a timestamp token re-encoded in BER verifies, and its imprint is checked', () => {
    writeFileSync(path.join(dir, 'data.bin'), data);
    openssl(['ts', '-query', '-data', path.join(dir, 'data.bin'), '-sha256', '-cert', '-out', path.join(dir, 'q.tsq')]);
    openssl(['ts', '-reply', '-config', path.join(dir, 'tsa.cnf'), '-queryfile', path.join(dir, 'q.tsq'), '-token_out', '-out', path.join(dir, 'token.der')]);
    const token = readFileSync(path.join(dir, 'token.der'));
    const ber = toBer(token);
    expect(isIndefinite(ber)).toBe(true);
    const digest = (alg: string): Buffer => createHash(alg).update(data).digest();
    for (const bytes of [token, ber]) {
      const result = verifyTimeStampToken(bytes, digest);
      expect(result.imprintMatches).toBe(true);
      expect(result.signature).toMatchObject({ signatureValid: true, messageDigestMatches: true, signingCertificateAttribute: { version: 'v2', matches: true } });
      expect(result.tsaCertHasTimeStampingEku).toBe(true);
      expect(Math.abs(result.genTime.getTime() - Date.now())).toBeLessThan(60_000);
    }
    expect(parseTimeStampToken(ber).tstInfo.nonceHex).toBeDefined();
    expect(verifyTimeStampToken(ber, (alg) => createHash(alg).update('other').digest()).imprintMatches).toBe(false);
  });

  const ca = selfSigned('ca', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  const caDir = tempDir('ca');
  const expiry = '301231235959Z';
  const revokedAt = '240102030405Z';
  writeFileSync(path.join(caDir, 'index.txt'), `R\t${expiry}\t${revokedAt},keyCompromise\t1234\tunknown\t/CN=revoked\nV\t${expiry}\t\t5678\tunknown\t/CN=good\n`);
  writeFileSync(path.join(caDir, 'crlnumber'), '01\n');
  writeFileSync(
    path.join(caDir, 'ca.cnf'),
    `[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = ${caDir}/index.txt\ncrlnumber = ${caDir}/crlnumber\ncertificate = ${ca.cert}\nprivate_key = ${ca.key}\ndefault_md = sha256\ndefault_crl_days = 7\n`,
  );

  it('parses a CRL from `openssl ca -gencrl`, in DER and re-encoded in BER', () => {
    openssl(['ca', '-gencrl', '-config', path.join(caDir, 'ca.cnf'), '-out', path.join(caDir, 'crl.pem')]);
    openssl(['crl', '-in', path.join(caDir, 'crl.pem'), '-outform', 'DER', '-out', path.join(caDir, 'crl.der')]);
    const der = readFileSync(path.join(caDir, 'crl.der'));
    for (const bytes of [der, toBer(der)]) {
      const crl = parseCrl(bytes);
      expect([...crl.revoked.keys()]).toEqual(['1234']);
      expect(crl.revoked.get('1234')).toEqual({ revokedAt: new Date('2024-01-02T03:04:05Z'), reason: 1 });
      expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(7 * 86_400_000);
      expect(crlSignedBy(crl, ca.certDer)).toBe(true);
      expect(crlSignedBy(crl, rsa.certDer)).toBe(false);
    }
    expect(() => parseCrl(der.subarray(0, 50))).toThrow(CrlError);
  });

  it('parses OCSP responses from `openssl ocsp`, revoked and good, signed by the CA', () => {
    const ask = (serial: string): Buffer => {
      const req = path.join(caDir, `req-${serial}.der`);
      const resp = path.join(caDir, `resp-${serial}.der`);
      openssl(['ocsp', '-issuer', ca.cert, '-serial', `0x${serial}`, '-reqout', req]);
      execFileSync('openssl', ['ocsp', '-index', path.join(caDir, 'index.txt'), '-rsigner', ca.cert, '-rkey', ca.key, '-CA', ca.cert, '-reqin', req, '-respout', resp, '-ndays', '1'], { stdio: 'pipe' });
      return readFileSync(resp);
    };
    const revoked = parseOcspResponse(ask('1234'));
    expect(revoked.responses[0]).toMatchObject({ status: 'revoked', revokedAt: new Date('2024-01-02T03:04:05Z'), reason: 1 });
    expect(revoked.responses[0]!.certId.serialHex).toBe('1234');
    expect(checkOcspSigner(revoked, ca.certDer)).toBeNull();
    const goodBytes = ask('5678');
    for (const bytes of [goodBytes, toBer(goodBytes)]) {
      const good = parseOcspResponse(bytes);
      expect(good.responses[0]).toMatchObject({ status: 'good' });
      expect(checkOcspSigner(good, ca.certDer)).toBeNull();
      expect(checkOcspSigner(good, rsa.certDer)).not.toBeNull();
    }
    expect(() => parseOcspResponse(Buffer.from([0x30, 0x03, 0x0a, 0x01]))).toThrow(OcspError);
  });
});

describe('PKCS#12 input', () => {
  const dir = tempDir('p12');
  const keytool = (alias: string, keyalg: string[]): { p12: Buffer; certDer: Buffer } => {
    const file = path.join(dir, `${alias}.p12`);
    execFileSync('keytool', ['-genkeypair', '-alias', alias, ...keyalg, '-dname', `CN=${alias}`, '-storetype', 'PKCS12', '-keystore', file, '-storepass', 'secret123', '-validity', '2'], { stdio: 'pipe' });
    execFileSync('keytool', ['-exportcert', '-alias', alias, '-keystore', file, '-storepass', 'secret123', '-file', path.join(dir, `${alias}.der`)], { stdio: 'pipe' });
    return { p12: readFileSync(file), certDer: readFileSync(path.join(dir, `${alias}.der`)) };
  };

  it('reads a Java keytool keystore (PBES2, HMAC-SHA256 MAC), also re-encoded in BER', () => {
    const { p12, certDer } = keytool('java-ec', ['-keyalg', 'EC', '-groupname', 'secp256r1']);
    const ber = toBer(p12);
    expect(isIndefinite(ber)).toBe(true);
    for (const bytes of [p12, ber]) {
      const { privateKey, chainDer } = readPkcs12(bytes, 'secret123');
      expect(privateKey.asymmetricKeyType).toBe('ec');
      expect(chainDer[0]!.equals(certDer)).toBe(true);
    }
    expect(() => readPkcs12(ber, 'wrong')).toThrow(expect.objectContaining({ code: 'BAD_PASSWORD' }));
  });

  it('reads an `openssl pkcs12 -legacy` file (RC2-40 certificates, 3DES key, SHA-1 MAC)', () => {
    const out = path.join(dir, 'legacy.p12');
    openssl(['pkcs12', '-export', '-legacy', '-inkey', rsa.key, '-in', rsa.cert, '-passout', 'pass:abc', '-out', out]);
    const { privateKey, chainDer } = readPkcs12(readFileSync(out), 'abc');
    expect(privateKey.asymmetricKeyType).toBe('rsa');
    expect(chainDer[0]!.equals(rsa.certDer)).toBe(true);
    expect(() => readPkcs12(readFileSync(out), 'abd')).toThrow(Pkcs12Error);
  });

  it('refuses hostile PKCS#12 input with Pkcs12Error', () => {
    const { p12 } = keytool('java-rsa', ['-keyalg', 'RSA', '-keysize', '2048']);
    for (const input of [Buffer.alloc(0), p12.subarray(0, 200), Buffer.concat(Array.from({ length: 300 }, () => Buffer.from([0x30, 0x80])))]) {
      expect(() => readPkcs12(input, 'secret123')).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    }
  });
});
