import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSealCertificate, type KeyKind } from '../../src/devpki/issue.js';
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
