/**
 * SM2-with-SM3 in CMS and in certificate paths: signatures made here (PadesCmsBuilder with the
 * SM2 signer) and by OpenSSL (pkeyutl over the same signed attributes; OpenSSL 3.0 cannot write
 * SM2 CMS itself), the GM/T 0010 content-type OIDs, and SM2 certificates made by openssl.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBer, rawOf, SMALL_LIMITS } from '../../src/pki/asn1.js';
import { PadesCmsBuilder } from '../../src/pki/cms-signer.js';
import { algorithmId, contextTag, oid, sequence, tlv } from '../../src/pki/der.js';
import { publicKeyOf, readCertFields } from '../../src/pki/cert-fields.js';
import { sm2PointOfSpki, sm2PublicKeyFromSpki } from '../../src/pki/sm2/sm2-keys.js';
import { OID } from '../../src/pki/oids.js';
import { resolveScheme, verifyWithScheme } from '../../src/pki/signature-schemes.js';
import { validatePath } from '../../src/pki/path-validate.js';
import { contentOf, parseSignedData, verifySignerInfo } from '../../src/pki/signed-data.js';
import type { DigestName, Signer } from '../../src/pki/signer.js';
import { loadSm2Pkcs8Signer } from '../../src/pki/sm2/sm2-signer.js';
import { tempDir } from '../helpers/tools.js';
import { openssl } from './openssl-pki.js';

const dir = tempDir('sm2-cms');
const file = (name: string): string => path.join(dir, name);
const der = (name: string): Buffer => {
  openssl(['x509', '-in', file(`${name}.pem`), '-outform', 'DER', '-out', file(`${name}.der`)]);
  return readFileSync(file(`${name}.der`));
};

// An SM2 root and an SM2 seal certificate it issued, both SM2-with-SM3 with the default ID.
openssl(['genpkey', '-algorithm', 'SM2', '-out', file('root-key.pem')]);
openssl(['req', '-new', '-x509', '-key', file('root-key.pem'), '-sm3', '-sigopt', 'distid:1234567812345678', '-subj', '/CN=SM2 Test Root', '-days', '3',
  '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', file('root.pem')]);
openssl(['genpkey', '-algorithm', 'SM2', '-out', file('seal-key.pem')]);
openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('seal-key.pem'), '-out', file('seal-key-enc.pem'), '-passout', 'pass:pw']);
openssl(['req', '-new', '-key', file('seal-key.pem'), '-sm3', '-sigopt', 'distid:1234567812345678', '-subj', '/CN=SM2 Test Seal', '-out', file('seal.csr')]);
writeFileSync(file('seal.ext'), 'keyUsage=critical,digitalSignature,nonRepudiation\n');
openssl(['x509', '-req', '-in', file('seal.csr'), '-CA', file('root.pem'), '-CAkey', file('root-key.pem'), '-sm3', '-sigopt', 'distid:1234567812345678',
  '-vfyopt', 'distid:1234567812345678', '-extfile', file('seal.ext'), '-days', '2', '-set_serial', '4660', '-out', file('seal.pem')]);
const rootDer = der('root');
const sealDer = der('seal');

/** A signer that has `openssl pkeyutl` sign, so the signature value is OpenSSL's. */
const opensslSigner: Signer = {
  key: { kind: 'sm2' },
  async sign(data: Buffer, digest: DigestName): Promise<Buffer> {
    expect(digest).toBe('sm3');
    writeFileSync(file('tbs.bin'), data);
    execFileSync('openssl', ['pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-inkey', file('seal-key.pem'), '-pkeyopt', 'distid:1234567812345678', '-in', file('tbs.bin'), '-out', file('tbs.sig')]);
    return readFileSync(file('tbs.sig'));
  },
};

async function sealCms(signer: Signer, content: Buffer, contentType?: string): Promise<Buffer> {
  const builder = new PadesCmsBuilder([sealDer, rootDer], signer, contentType ? { contentType } : {});
  expect(builder.digest).toBe('sm3');
  const { encode } = await builder.sign(createHash('sm3').update(content).digest());
  const cms = encode();
  expect(cms.length).toBeLessThanOrEqual(builder.maxLength());
  return cms;
}

function verify(cms: Buffer, content: Buffer) {
  const parsed = parseSignedData(cms);
  return verifySignerInfo(parsed, parsed.signers[0]!, contentOf([content]));
}

describe('SM2-with-SM3 CMS signatures', () => {
  const content = Buffer.from('%PDF-1.7 the signed byte ranges stand-in');

  it('made here: SM2/SM3 identifiers, valid signature, digest and signing-certificate-v2 with SM3', async () => {
    const cms = await sealCms(loadSm2Pkcs8Signer(readFileSync(file('seal-key-enc.pem')), 'pw'), content);
    const parsed = parseSignedData(cms);
    expect(parsed.signers[0]!.digestAlgorithmOid).toBe(OID.sm3);
    expect(parsed.signers[0]!.signatureAlgorithm.oid).toBe(OID.sm2WithSm3);
    const result = verify(cms, content);
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ signatureValid: true, messageDigestMatches: true, signatureAlgorithm: { name: 'SM2', hash: 'sm3' }, signingCertificateAttribute: { version: 'v2', matches: true } });
    expect(result.signerCertificate).toEqual(sealDer);
  });

  it('made by openssl over the same signed attributes: verifies here', async () => {
    const result = verify(await sealCms(opensslSigner, content), content);
    expect(result.signatureValid).toBe(true);
    expect(result.messageDigestMatches).toBe(true);
  });

  it('a changed document or a changed signature value fails', async () => {
    const cms = await sealCms(opensslSigner, content);
    const altered = verify(cms, Buffer.concat([content, Buffer.from(' ')]));
    expect(altered.messageDigestMatches).toBe(false);
    const parsed = parseSignedData(cms);
    const signature = parsed.signers[0]!.signature;
    const at = cms.indexOf(signature);
    const damaged = Buffer.from(cms);
    damaged[at + signature.length - 3] = damaged[at + signature.length - 3]! ^ 0x01;
    expect(verify(damaged, content).signatureValid).toBe(false);
  });

  it('accepts the GM/T 0010 content types (signedData outside, data signed for)', async () => {
    const cms = await sealCms(opensslSigner, content, OID.gmData);
    const explicitContent = decodeBer(cms, 'cms', SMALL_LIMITS) as unknown as { valueBlock: { value: Parameters<typeof rawOf>[0][] } };
    const gm = sequence(oid(OID.gmSignedData), rawOf(explicitContent.valueBlock.value[1]!));
    expect(gm.subarray(0, 20).includes(oid(OID.gmSignedData))).toBe(true);
    const parsed = parseSignedData(gm);
    expect(parsed.eContentType).toBe(OID.gmData);
    expect(verify(gm, content)).toMatchObject({ signatureValid: true, messageDigestMatches: true });
    // anything else outside is still refused
    expect(() => parseSignedData(sequence(oid(OID.data), contextTag(0, true, Buffer.from([0x30, 0x00]))))).toThrow(/not SignedData/);
  });

  it('an SM2 signature does not pass as ECDSA over the SM2 curve, nor an ECDSA key as SM2', async () => {
    const data = Buffer.from('signed attributes');
    const sm2Key = publicKeyOf(sealDer)!;
    const signature = await opensslSigner.sign(data, 'sm3');
    expect(verifyWithScheme([data], sm2Key, { name: 'SM2', hash: 'sm3' }, signature)).toBe(true);
    expect(verifyWithScheme([data], sm2Key, { name: 'ECDSA', hash: 'sha256' }, signature)).toBe(false);
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecdsaSignature = sign('sha256', data, p256.privateKey);
    expect(verifyWithScheme([data], p256.publicKey, { name: 'SM2', hash: 'sm3' }, ecdsaSignature)).toBe(false);
  });
});

describe('SM2 key and algorithm identifiers of other products', () => {
  it('reads an SM2 public key named by the GM/T 0006 key OID, and verifies with it', async () => {
    const point = sm2PointOfSpki(readCertFields(sealDer).spkiDer)!;
    const gmSpki = sequence(algorithmId(OID.sm2), tlv(0x03, Buffer.concat([Buffer.from([0]), point])));
    expect(sm2PointOfSpki(gmSpki)).toEqual(point);
    const key = sm2PublicKeyFromSpki(gmSpki)!;
    const data = Buffer.from('x');
    expect(verifyWithScheme([data], key, { name: 'SM2', hash: 'sm3' }, await opensslSigner.sign(data, 'sm3'))).toBe(true);
  });

  it('resolves SM2-with-SM3, and the SM2 key OIDs used as signature algorithm with an SM3 digest', () => {
    expect(resolveScheme(OID.sm2WithSm3, undefined, 'sm3')).toEqual({ name: 'SM2', hash: 'sm3' });
    expect(resolveScheme(OID.sm2, undefined, 'sm3')).toEqual({ name: 'SM2', hash: 'sm3' });
    expect(resolveScheme(OID.sm2Sign, undefined, 'sm3')).toEqual({ name: 'SM2', hash: 'sm3' });
    expect(resolveScheme(OID.ecPublicKey, undefined, 'sm3')).toEqual({ name: 'SM2', hash: 'sm3' });
    expect(resolveScheme(OID.sm2, undefined, 'sha256')).toEqual({ unsupported: 'SM2 with sha256' });
  });
});

describe('SM2 certificate paths', () => {
  it('validates a seal certificate issued with SM2-with-SM3 by an SM2 root', () => {
    const result = validatePath(sealDer, [], [rootDer], new Date());
    expect(result.problems).toEqual([]);
    expect(result.status).toBe('VALID');
    expect(result.chain).toHaveLength(2);
  });

  it('a certificate whose SM2 signature is damaged has no path', () => {
    const damaged = Buffer.from(sealDer);
    damaged[damaged.length - 2] = damaged[damaged.length - 2]! ^ 0x01;
    expect(validatePath(damaged, [], [rootDer], new Date()).status).toBe('NO_CERTIFICATE_CHAIN_FOUND');
  });
});

describe('ECDSA over the SM2 curve', () => {
  it('is not accepted as a signature scheme for an SM2-curve key, even one node types as EC', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const data = Buffer.from('data');
    const ecdsaOverSm2Curve = sign('sha256', data, privateKey);
    expect(verifyWithScheme([data], publicKey, { name: 'ECDSA', hash: 'sha256' }, ecdsaOverSm2Curve)).toBe(false);
    expect(verifyWithScheme([data], publicKey, { name: 'SM2', hash: 'sm3' }, ecdsaOverSm2Curve)).toBe(false);
  });
});
