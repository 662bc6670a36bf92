/**
 * Sealing with the sample SM2 seal of the embedded default: the CMS carries SM2/SM3
 * identifiers (sub-filter adbe.pkcs7.detached), the service's verifier reports TOTAL_PASSED
 * with the dev SM2 root trusted, earlier RSA seals stay valid for pdfsig, and the SM2 seal
 * certificate's status is served by the SM2 OCSP responder and CRL.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../../src/pki/oids.js';
import { derToPem } from '../../src/pki/pem.js';
import { parseSignedData } from '../../src/pki/signed-data.js';
import { crlSignedBy, parseCrl } from '../../src/revocation/crl.js';
import { readCertFields } from '../../src/pki/cert-fields.js';
import type { ValidationReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, tempDir, writeTemp } from '../helpers/tools.js';

const SM2_SEAL = 'zrzy-official';

/** The CMS of the last signature: the /Contents hole between the second and third ByteRange numbers. */
function lastSignature(pdf: Buffer): { cms: Buffer; signed: Buffer } {
  const text = pdf.toString('latin1');
  const matches = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  const [, a, b, c, d] = matches[matches.length - 1]!.map(Number) as [number, number, number, number, number];
  const hex = text.slice(a + b + 1, c - 1);
  const cms = Buffer.from(hex, 'hex');
  const length = cms[1]! < 0x80 ? cms[1]! + 2 : 2 + (cms[1]! & 0x7f) + cms.subarray(2, 2 + (cms[1]! & 0x7f)).reduce((n, byte) => n * 256 + byte, 0);
  return { cms: cms.subarray(0, length), signed: Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]) };
}

async function verify(svc: RunningService, pdf: Buffer): Promise<ValidationReport> {
  const res = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ValidationReport;
}

async function status(svc: RunningService, pem: string): Promise<{ status: string; source?: string }> {
  const res = await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file' }, body: pem });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { certificates: Array<{ status: string; source?: string }> }).certificates[0]!;
}

describe('sealing with an SM2 seal', () => {
  let svc: RunningService;
  const sm2Chain = (): Buffer[] => svc.service.devPki!.seals.find((s) => s.id === SM2_SEAL)!.chainDer;
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => svc?.close());

  it('writes SM2-with-SM3 CMS as adbe.pkcs7.detached, and the service verifies it TOTAL_PASSED', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL });
    const { cms } = lastSignature(sealed);
    const signer = parseSignedData(cms).signers[0]!;
    expect(signer.digestAlgorithmOid).toBe(OID.sm3);
    expect(signer.signatureAlgorithm.oid).toBe(OID.sm2WithSm3);
    expect(signer.signedAttrs.has(OID.signingCertificateV2)).toBe(true);
    expect(sealed.toString('latin1')).toContain('/SubFilter /adbe.pkcs7.detached');

    const report = await verify(svc, sealed);
    const sig = report.signatures[0]!;
    expect(sig.problems).toEqual([]);
    expect(sig).toMatchObject({
      subFilter: 'adbe.pkcs7.detached',
      indication: 'TOTAL_PASSED',
      algorithms: { digest: 'sm3', signature: expect.stringMatching(/SM2/) },
      integrity: { messageDigestMatches: true, signatureValid: true, signingCertificateReference: 'matches' },
      seal: { id: SM2_SEAL },
    });
    expect(sig.certificatePath.trustAnchorReached).toBe(true);
  });

  it('an RSA seal and then an SM2 seal: both pass here, and pdfsig still parses the file and keeps the RSA seal valid', async () => {
    const rsa = await sealOk(svc, await makePdf(1), { sealId: 'scjg-official' });
    const both = await sealOk(svc, rsa, { sealId: SM2_SEAL });
    const report = await verify(svc, both);
    expect(report.signatures.map((s) => s.indication)).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED']);
    const listed = pdfsig(writeTemp('rsa-then-sm2.pdf', both), nssDbWithRoot(svc.rootPem));
    expect(listed).toHaveLength(2);
    expect(listed[0]!.signatureValid).toBe(true);
    expect(listed[0]!.certificateTrusted).toBe(true);
    // poppler/NSS knows neither SM3 nor SM2: it lists the SM2 seal and cannot judge it
    expect(listed[1]!.raw).toMatch(/Unrecognized Hash ID/);
    expect(listed[1]!.signatureValid).toBe(false);
  });

  it('at level B-LT the SM2 seal gets a timestamp and its SM2 chain’s revocation evidence, and still passes', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL, level: 'B-LT' });
    expect(sealed.toString('latin1')).toContain('/DSS');
    const sig = (await verify(svc, sealed)).signatures[0]!;
    expect(sig.problems).toEqual([]);
    expect(sig.indication).toBe('TOTAL_PASSED');
    expect(sig.timestamps).toHaveLength(1);
    expect(sig.revocation).toMatchObject({ checked: true, status: 'good' });
    // offline, the evidence embedded in /DSS (signed with SM2 by the SM2 responder or CA) is enough
    const res = await fetch(`${svc.url}/v1/verify?offline=true`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(sealed) });
    const offline = ((await res.json()) as ValidationReport).signatures[0]!;
    expect(offline.indication).toBe('TOTAL_PASSED');
    expect(offline.revocation.source).toMatch(/^embedded-/);
  });

  it('a changed byte in the signed part fails the SM2 seal', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL });
    const at = sealed.indexOf('/MediaBox');
    const altered = Buffer.from(sealed);
    altered[at + 1] = 'm'.charCodeAt(0);
    const sig = (await verify(svc, altered)).signatures[0]!;
    expect(sig.indication).toBe('TOTAL_FAILED');
    expect(sig.subIndication).toBe('HASH_FAILURE');
  });

  it('what openssl cms can do with it: it reads the structure, and refuses the signature (it uses an empty SM2 ID)', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL });
    const { cms, signed } = lastSignature(sealed);
    const dir = tempDir('sm2-cms');
    const files = { cms: path.join(dir, 'sig.der'), content: path.join(dir, 'content.bin'), root: path.join(dir, 'root.pem') };
    writeFileSync(files.cms, cms);
    writeFileSync(files.content, signed);
    writeFileSync(files.root, derToPem(sm2Chain()[2]!));
    const printed = spawnSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', files.cms], { encoding: 'utf8' });
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(/SM2-with-SM3|sm2sign-with-sm3/);
    const cmsVerify = (extra: string[]) =>
      spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', files.cms, '-content', files.content, '-CAfile', files.root, '-purpose', 'any', ...extra, '-out', '/dev/null'], { encoding: 'utf8' });
    // OpenSSL 3.0's CMS checks SM2 signatures with an empty ID, not GM/T 0009's default (a CMS
    // signed by `pkeyutl` without distid passes it): it refuses the chain's SM2 certificates and,
    // told not to check them, the signer's signature. Recorded so that a change in openssl shows.
    const withChain = cmsVerify([]);
    expect(withChain.status).not.toBe(0);
    expect(withChain.stderr).toMatch(/certificate signature failure/);
    const signerOnly = cmsVerify(['-noverify']);
    expect(signerOnly.status).not.toBe(0);
    expect(signerOnly.stderr).toMatch(/CMS_SignerInfo_verify:verification failure/);
  });

  it('serves the SM2 seal certificate’s status (SM2 OCSP responder) and an SM2-signed CRL that lists it once revoked', async () => {
    const [leaf, ca] = sm2Chain() as [Buffer, Buffer, Buffer];
    expect(await status(svc, derToPem(leaf))).toMatchObject({ status: 'good' });
    const revoke = await fetch(`${svc.url}/v1/seals/${SM2_SEAL}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' }, body: '{"reason":1}' });
    expect(revoke.status, await revoke.clone().text()).toBe(200);
    const started = Date.now();
    let seen = '';
    while (Date.now() - started < 2000 && seen !== 'revoked') seen = (await status(svc, derToPem(leaf))).status;
    expect(seen).toBe('revoked');
    const crl = Buffer.from(await (await fetch(`${svc.url}/pki/sm2-seal-ca.crl`)).arrayBuffer());
    const parsed = parseCrl(crl);
    expect(crlSignedBy(parsed, ca)).toBe(true);
    expect(parsed.signatureAlgorithm).toBe(OID.sm2WithSm3);
    expect(parsed.revoked.has(readCertFields(leaf).serialHex)).toBe(true);
  });
});
