import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificateForKey, issueSealCertificate, KEY_USAGE, validityYears, type KeyKind } from '../../src/devpki/issue.js';
import { defaultValidationPolicy, loadValidationPolicy } from '../../src/validation/policy.js';
import { validatePdf } from '../../src/validation/engine.js';
import type { SignatureReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { startService, type RunningService } from '../helpers/service.js';
import { pdfsig, tempDir, writeTemp } from '../helpers/tools.js';
import { devSealCa, signWithCustomRanges } from './fixtures.js';

let svc: RunningService;
let base: Buffer;
const dir = tempDir('algs');

beforeAll(async () => {
  svc = await startService();
  base = await makePdf(1);
});
afterAll(async () => svc?.close());

async function signerFiles(keyKind: KeyKind): Promise<{ cert: string; key: string; chain: string }> {
  const { ca, chain } = devSealCa(svc.dataDir);
  const issued = await issueSealCertificate({ orgName: 'Algorithm Test Bureau', uscc: '11370500MB0100001H', sealName: '', keyKind, baseUrl: svc.url }, ca);
  const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  const files = { cert: path.join(dir, `${keyKind}.crt`), key: path.join(dir, `${keyKind}.key`), chain: path.join(dir, 'chain.pem') };
  writeFileSync(files.cert, pem(issued.certDer));
  writeFileSync(files.key, issued.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(files.chain, chain.map(pem).join(''));
  return files;
}

/** Signs the byte ranges with `openssl cms` and the given extra options. */
async function opensslSigned(keyKind: KeyKind, options: string[], subFilter: 'adbe.pkcs7.detached' | 'adbe.pkcs7.sha1' = 'adbe.pkcs7.detached'): Promise<Buffer> {
  const files = await signerFiles(keyKind);
  return signWithCustomRanges(base, 8192, subFilter, (bytes) => {
    const data = path.join(dir, 'data.bin');
    writeFileSync(data, subFilter === 'adbe.pkcs7.sha1' ? createHash('sha1').update(bytes).digest() : bytes);
    const out = path.join(dir, 'sig.der');
    execFileSync('openssl', ['cms', '-sign', '-binary', '-outform', 'DER', '-in', data, '-signer', files.cert, '-inkey', files.key, '-certfile', files.chain, ...options, '-out', out]);
    return readFileSync(out);
  });
}

async function check(pdf: Buffer, comparePdfsig = true): Promise<SignatureReport> {
  const report = await validatePdf(pdf, { trustAnchors: [svc.service.devPki!.root.certDer] });
  const sig = report.signatures[0]!;
  if (comparePdfsig) {
    const theirs = pdfsig(writeTemp('alg.pdf', pdf))[0]!;
    expect(sig.integrity.messageDigestMatches === true && sig.integrity.signatureValid === true).toBe(theirs.signatureValid);
  }
  return sig;
}

describe('signature algorithms and signer identifiers', () => {
  it('RSA-PSS with SHA-256', async () => {
    const sig = await check(await opensslSigned('rsa', ['-md', 'sha256', '-keyopt', 'rsa_padding_mode:pss']));
    expect(sig.algorithms.signature).toBe('RSA-PSS with sha256');
    expect(sig.integrity.signatureValid).toBe(true);
  });

  it('ECDSA P-384 with SHA-384', async () => {
    const sig = await check(await opensslSigned('ec384', ['-md', 'sha384']));
    expect(sig.algorithms).toMatchObject({ digest: 'sha384', signature: 'ECDSA with sha384', weak: [] });
    expect(sig.integrity.signatureValid).toBe(true);
  });

  it('a signer identified by subject key identifier', async () => {
    // poppler's NSS backend does not find a signer named by key identifier, so OpenSSL is the
    // independent check here: it verifies the same CMS over the same bytes.
    const sig = await check(await opensslSigned('ec', ['-md', 'sha256', '-keyid']), false);
    expect(sig.integrity.signatureValid).toBe(true);
    execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-content', path.join(dir, 'data.bin'), '-noverify', '-out', '/dev/null'], { stdio: 'pipe' });
    const tamperedData = readFileSync(path.join(dir, 'data.bin'));
    tamperedData[0] = tamperedData[0]! ^ 1;
    writeFileSync(path.join(dir, 'data.bin'), tamperedData);
    expect(() => execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-content', path.join(dir, 'data.bin'), '-noverify', '-out', '/dev/null'], { stdio: 'pipe' })).toThrow();
    expect(sig.signer?.subject).toContain('Algorithm Test Bureau');
  });

  it('SHA-1 is reported as weak and not accepted', async () => {
    const sig = await check(await opensslSigned('rsa', ['-md', 'sha1']));
    expect(sig.integrity.signatureValid).toBe(true);
    expect(sig.algorithms.weak).toContain('sha1');
    expect([sig.indication, sig.subIndication]).toEqual(['INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE']);
  });

  it('adbe.pkcs7.sha1: the encapsulated SHA-1 digest of the ranges is checked', async () => {
    const pdf = await opensslSigned('rsa', ['-md', 'sha256', '-nodetach'], 'adbe.pkcs7.sha1');
    const report = await validatePdf(pdf, { trustAnchors: [svc.service.devPki!.root.certDer] });
    const sig = report.signatures[0]!;
    expect(sig.subFilter).toBe('adbe.pkcs7.sha1');
    expect(sig.integrity).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    expect(sig.algorithms.weak).toContain('sha1');
    const tampered = Buffer.from(pdf);
    tampered[60] = tampered[60]! ^ 1;
    const bad = (await validatePdf(tampered, { trustAnchors: [] })).signatures[0]!;
    expect(bad.subIndication).toBe('HASH_FAILURE');
  });
});

describe('the validation policy', () => {
  /** An RSA key of `bits` certified by the development seal CA, and a CMS signature made with it by openssl. */
  async function rsaSigned(bits: number): Promise<Buffer> {
    const { ca, chain } = devSealCa(svc.dataDir);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    const certDer = await issueCertificateForKey(
      { subject: [['CN', `RSA-${bits} Bureau`]], ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation },
      publicKey.export({ format: 'der', type: 'spki' }),
      ca,
    );
    const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    writeFileSync(path.join(dir, 'weak.crt'), pem(certDer));
    writeFileSync(path.join(dir, 'weak.key'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(path.join(dir, 'chain.pem'), chain.map(pem).join(''));
    return signWithCustomRanges(base, 8192, 'adbe.pkcs7.detached', (bytes) => {
      writeFileSync(path.join(dir, 'data.bin'), bytes);
      execFileSync('openssl', ['cms', '-sign', '-binary', '-outform', 'DER', '-md', 'sha256', '-in', path.join(dir, 'data.bin'), '-signer', path.join(dir, 'weak.crt'), '-inkey', path.join(dir, 'weak.key'), '-certfile', path.join(dir, 'chain.pem'), '-out', path.join(dir, 'weak.der')]);
      return readFileSync(path.join(dir, 'weak.der'));
    });
  }

  it('an RSA key below 2048 bits fails the default policy, naming the constraint; a policy that allows it does not', async () => {
    const pdf = await rsaSigned(1024);
    const sig = await check(pdf);
    expect(sig.integrity.signatureValid).toBe(true);
    expect([sig.indication, sig.subIndication]).toEqual(['INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE']);
    expect(sig.failedConstraint?.constraint).toBe('signatureAlgorithms.RSA-PKCS1.minKeyBits');
    const lenient = { ...defaultValidationPolicy(), name: 'lenient', signatureAlgorithms: { ...defaultValidationPolicy().signatureAlgorithms, 'RSA-PKCS1': { minKeyBits: 1024 } } };
    const report = await validatePdf(pdf, { trustAnchors: [svc.service.devPki!.root.certDer], policy: lenient });
    expect(report.policy).toBe('lenient');
    expect(report.signatures[0]!.subIndication).toBe('TRY_LATER'); // no revocation checker here: nothing else is wrong
  });

  it('a digest the policy does not list is a crypto constraint failure; so is an algorithm nobody implements', async () => {
    const pdf = await opensslSigned('ec', ['-md', 'sha256']);
    const policy = { ...defaultValidationPolicy(), digestAlgorithms: { sha384: {} } };
    const report = await validatePdf(pdf, { trustAnchors: [svc.service.devPki!.root.certDer], policy });
    expect([report.signatures[0]!.indication, report.signatures[0]!.subIndication]).toEqual(['INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE']);
    expect(report.signatures[0]!.failedConstraint?.constraint).toBe('digestAlgorithms.sha256');
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) of the signer info turned into an unassigned arc (...4.3.99)
    const text = pdf.toString('latin1');
    const at = text.toLowerCase().lastIndexOf('06082a8648ce3d040302');
    expect(at).toBeGreaterThan(0);
    const unknown = Buffer.from(text.slice(0, at) + '06082A8648CE3D040363' + text.slice(at + 20), 'latin1');
    const sig = await check(unknown, false);
    expect(sig.integrity.signatureValid).toBeNull();
    expect([sig.indication, sig.subIndication]).toEqual(['INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE']);
  });

  it('a policy file is checked when it is read', () => {
    const bad = path.join(dir, 'bad-policy.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', digestAlgorithms: { sha256: { acceptedUntil: 'soon' } } }));
    expect(() => loadValidationPolicy(bad)).toThrow(/bad-policy\.json: .*digestAlgorithms/);
    expect(loadValidationPolicy().name).toBe(defaultValidationPolicy().name);
  });
});

