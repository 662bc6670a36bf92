import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { P12Signer } from '@signpdf/signer-p12';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, issueSealCertificate, KEY_USAGE, validityYears, type Issued } from '../../src/devpki/issue.js';
import { PadesCmsBuilder } from '../../src/pki/cms-signer.js';
import { KeyObjectSigner } from '../../src/pki/key-object-signer.js';
import { readPkcs12, writePkcs12 } from '../../src/pki/pfx.js';
import { Pkcs12Error } from '../../src/pki/pkcs12-errors.js';
import { tempDir } from '../helpers/tools.js';

let root: Issued;
let ca: Issued;
let rsaSeal: Issued;
let ecSeal: Issued;
const dir = tempDir('pki');
const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;

beforeAll(async () => {
  root = await issueCertificate({ subject: [['CN', 'Test Root']], keyKind: 'rsa', ...validityYears(5), ca: {}, keyUsage: KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign });
  ca = await issueCertificate({ subject: [['CN', 'Test Seal CA']], keyKind: 'ec', ...validityYears(5), ca: { pathLength: 0 }, keyUsage: KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign }, root);
  rsaSeal = await issueSealCertificate({ orgName: '测试局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'rsa', baseUrl: 'http://127.0.0.1:1' }, ca);
  ecSeal = await issueSealCertificate({ orgName: '测试局', uscc: '11370500MB0100001H', sealName: '审批专用章', keyKind: 'ec', baseUrl: 'http://127.0.0.1:1' }, ca);
  writeFileSync(path.join(dir, 'root.pem'), pem(root.certDer));
  writeFileSync(path.join(dir, 'ca.pem'), pem(ca.certDer));
});

describe('PKCS#12 keystores', () => {
  it('writes files OpenSSL reads and reads them back, for RSA and EC keys', () => {
    for (const seal of [rsaSeal, ecSeal]) {
      const p12 = writePkcs12({ privateKey: seal.privateKey, chainDer: [seal.certDer, ca.certDer, root.certDer], password: 'pw-123', friendlyName: 'seal' });
      const file = path.join(dir, 'k.p12');
      writeFileSync(file, p12);
      const info = execFileSync('openssl', ['pkcs12', '-in', file, '-passin', 'pass:pw-123', '-nodes', '-info'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(info).toContain('PRIVATE KEY');
      expect(info.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
      const back = readPkcs12(p12, 'pw-123');
      expect(back.chainDer[0]!.equals(seal.certDer)).toBe(true);
      expect(back.chainDer.map((c) => c.length)).toEqual([seal.certDer.length, ca.certDer.length, root.certDer.length]);
      expect(back.privateKey.asymmetricKeyType).toBe(seal.privateKey.asymmetricKeyType);
    }
  });

  it('is readable by node-forge as @signpdf uses it (RSA)', async () => {
    // forge parses only RSA keys and RSA-signed certificates, so this chain is RSA throughout.
    const rsaOnly = await issueSealCertificate({ orgName: '测试局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'rsa', baseUrl: 'http://127.0.0.1:1' }, root);
    const p12 = writePkcs12({ privateKey: rsaOnly.privateKey, chainDer: [rsaOnly.certDer, root.certDer], password: 'pw' });
    const signer = new P12Signer(p12, { passphrase: 'pw' });
    const cms = await signer.sign(Buffer.from('hello'));
    expect(cms.length).toBeGreaterThan(1000);
  });

  it('reads PKCS#12 files written by OpenSSL, and names what is wrong with bad ones', () => {
    const keyFile = path.join(dir, 'ec.key');
    writeFileSync(keyFile, ecSeal.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(path.join(dir, 'ec.pem'), pem(ecSeal.certDer));
    const out = path.join(dir, 'openssl.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', keyFile, '-in', path.join(dir, 'ec.pem'), '-certfile', path.join(dir, 'ca.pem'), '-passout', 'pass:abc', '-out', out]);
    const p12 = readFileSync(out);
    expect(readPkcs12(p12, 'abc').chainDer[0]!.equals(ecSeal.certDer)).toBe(true);
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        if (err instanceof Pkcs12Error) return err.code;
        throw err;
      }
      return undefined;
    };
    expect(code(() => readPkcs12(p12, 'wrong'))).toBe('BAD_PASSWORD');
    expect(code(() => readPkcs12(Buffer.from('not a pkcs12 file at all'), 'abc'))).toBe('MALFORMED');
    expect(code(() => readPkcs12(p12.subarray(0, p12.length - 40), 'abc'))).toBe('MALFORMED');
    const mismatched = writePkcs12({ privateKey: rsaSeal.privateKey, chainDer: [ecSeal.certDer], password: 'x' });
    expect(code(() => readPkcs12(mismatched, 'x'))).toBe('KEY_CERT_MISMATCH');
    const certOnly = path.join(dir, 'certonly.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-nokeys', '-in', path.join(dir, 'ec.pem'), '-passout', 'pass:abc', '-out', certOnly]);
    expect(code(() => readPkcs12(readFileSync(certOnly), 'abc'))).toBe('NO_KEY');
  });

  it('signs with node:crypto through the signer interface', async () => {
    for (const seal of [rsaSeal, ecSeal]) {
      const signer = new KeyObjectSigner(seal.privateKey);
      const sig = await signer.sign(Buffer.from('data'), 'sha256');
      const publicKey = (await import('node:crypto')).createPublicKey(seal.privateKey);
      expect(verify('sha256', Buffer.from('data'), publicKey, sig)).toBe(true);
    }
    expect(() => new KeyObjectSigner(generateKeyPairSync('ed25519').privateKey)).toThrow(/unsupported/);
  });
});

describe('PAdES CMS', () => {
  it('produces detached SignedData that openssl cms verifies, with signing-certificate-v2 and no signing-time', async () => {
    for (const seal of [rsaSeal, ecSeal]) {
      const builder = new PadesCmsBuilder([seal.certDer, ca.certDer, root.certDer], new KeyObjectSigner(seal.privateKey));
      const content = Buffer.from('the signed byte ranges of a PDF');
      const { encode } = await builder.sign(createHash('sha256').update(content).digest());
      const cms = encode();
      expect(cms.length).toBeLessThanOrEqual(builder.maxLength());
      const cmsFile = path.join(dir, 'sig.der');
      const contentFile = path.join(dir, 'content.bin');
      writeFileSync(cmsFile, cms);
      writeFileSync(contentFile, content);
      const ok = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsFile, '-content', contentFile, '-CAfile', path.join(dir, 'root.pem'), '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
      expect(ok.status, ok.stderr).toBe(0);
      const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsFile], { encoding: 'utf8' });
      expect(printed).toContain('id-smime-aa-signingCertificateV2');
      expect(printed).not.toContain('signingTime');
      expect(printed.match(/subject: /g)).toHaveLength(2); // leaf and CA; the root is left out
      writeFileSync(contentFile, Buffer.from('the signed byte ranges of a PDF, changed'));
      const bad = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', cmsFile, '-content', contentFile, '-CAfile', path.join(dir, 'root.pem'), '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
    }
  });
});
