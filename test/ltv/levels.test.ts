import { execFileSync } from 'node:child_process';

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { findSignatures } from '../../src/pdf/signatures.js';
import { OID } from '../../src/pki/oids.js';
import { parseSignedData } from '../../src/pki/signed-data.js';
import { sealAtLevel } from '../../src/signing/levels.js';
import type { ValidationReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, qpdfCheck, tempDir, writeTemp } from '../helpers/tools.js';

let svc: RunningService;
let base: Buffer;
const YEARS_4 = 4 * 365 * 86_400_000;

beforeAll(async () => {
  svc = await startService();
  base = await makePdf(2);
});
afterAll(async () => svc?.close());

async function verify(pdf: Buffer, query: Record<string, string> = {}): Promise<ValidationReport> {
  const res = await fetch(`${svc.url}/v1/verify?${new URLSearchParams(query)}`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status).toBe(200);
  return (await res.json()) as ValidationReport;
}

describe('the development TSA', () => {
  it('answers RFC 3161 requests that openssl ts makes and verifies', async () => {
    const dir = tempDir('tsq');
    writeFileSync(path.join(dir, 'data.txt'), 'some data to timestamp');
    execFileSync('openssl', ['ts', '-query', '-data', path.join(dir, 'data.txt'), '-sha256', '-cert', '-out', path.join(dir, 'q.tsq')]);
    const res = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(readFileSync(path.join(dir, 'q.tsq'))) });
    expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
    writeFileSync(path.join(dir, 'r.tsr'), Buffer.from(await res.arrayBuffer()));
    const pki = path.join(svc.dataDir, 'pki');
    const out = execFileSync('openssl', ['ts', '-verify', '-in', path.join(dir, 'r.tsr'), '-queryfile', path.join(dir, 'q.tsq'), '-CAfile', path.join(pki, 'root.pem'), '-untrusted', path.join(pki, 'seal-ca.pem')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/Verification: OK/);
    const garbage = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: 'garbage' });
    writeFileSync(path.join(dir, 'bad.tsr'), Buffer.from(await garbage.arrayBuffer()));
    expect(execFileSync('openssl', ['ts', '-reply', '-in', path.join(dir, 'bad.tsr'), '-text'], { encoding: 'utf8' })).toMatch(/Status: Rejected/);
  });
});

describe('PAdES levels', () => {
  it('B-T: a signature timestamp that openssl ts verifies and pdfsig accepts', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-approval', level: 'B-T' });
    const sig = findSignatures(PdfDocument.load(sealed))[0]!;
    const signer = parseSignedData(sig.contents!).signers[0]!;
    const token = signer.unsignedAttrs.get(OID.signatureTimeStampToken)![0]!.raw;
    const dir = tempDir('bt');
    writeFileSync(path.join(dir, 'token.der'), token);
    writeFileSync(path.join(dir, 'sigvalue.bin'), signer.signature);
    const pki = path.join(svc.dataDir, 'pki');
    const out = execFileSync('openssl', ['ts', '-verify', '-in', path.join(dir, 'token.der'), '-token_in', '-data', path.join(dir, 'sigvalue.bin'), '-CAfile', path.join(pki, 'root.pem'), '-untrusted', path.join(pki, 'seal-ca.pem')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/Verification: OK/);
    const theirs = pdfsig(writeTemp('bt.pdf', sealed), nssDbWithRoot(svc.rootPem))[0]!;
    expect(theirs.signatureValid && theirs.certificateTrusted, theirs.raw).toBe(true);
    const report = await verify(sealed);
    expect(report.signatures[0]!.timestamps[0]!.valid).toBe(true);
    expect(report.signatures[0]!.indication).toBe('TOTAL_PASSED');
  });

  it('B-LT embeds certificates, OCSP responses and CRLs; validation then needs no network', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'xzsp-official', level: 'B-LT' });
    const doc = PdfDocument.load(sealed);
    const dss = doc.resolveDict(doc.catalog().get('DSS'))!;
    expect((doc.resolve(dss.get('Certs')) as unknown[]).length).toBeGreaterThanOrEqual(4);
    expect((doc.resolve(dss.get('CRLs')) as unknown[]).length).toBeGreaterThanOrEqual(1);
    expect((doc.resolve(dss.get('OCSPs')) as unknown[]).length).toBeGreaterThanOrEqual(1); // the seal certificate; the TSA's status comes from the CRL
    expect(qpdfCheck(writeTemp('lt.pdf', sealed)).ok).toBe(true);
    const offline = (await verify(sealed, { offline: 'true' })).signatures[0]!;
    expect(offline.revocation).toMatchObject({ checked: true, status: 'good', source: 'embedded-ocsp' });
    expect(offline.indication).toBe('TOTAL_PASSED');
    const bOnly = (await verify(await sealOk(svc, base, { sealId: 'xzsp-official' }), { offline: 'true' })).signatures[0]!;
    expect([bOnly.indication, bOnly.subIndication]).toEqual(['INDETERMINATE', 'TRY_LATER']);
    const theirs = pdfsig(writeTemp('lt2.pdf', sealed), nssDbWithRoot(svc.rootPem))[0]!;
    expect(theirs.signatureValid && theirs.certificateTrusted && theirs.totalDocument === false, theirs.raw).toBe(true);
  });

  it('B-LTA: archival validation years later, offline, from the embedded evidence', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-official', level: 'B-LTA' });
    const sigs = pdfsig(writeTemp('lta.pdf', sealed), nssDbWithRoot(svc.rootPem));
    expect(sigs[0]!.signatureValid).toBe(true);
    expect(sigs.length).toBe(2); // pdfsig lists the document timestamp too
    const later = new Date(Date.now() + YEARS_4).toISOString();
    const report = await verify(sealed, { offline: 'true', validationTime: later });
    expect(report.signatures.map((s) => s.kind)).toEqual(['signature', 'document-timestamp']);
    const sig = report.signatures[0]!;
    expect(sig.problems.join(' ')).toMatch(/expired/);
    expect(sig.indication, JSON.stringify(sig.problems)).toBe('TOTAL_PASSED');
    expect(report.signatures[1]!.integrity).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    // The document timestamp covers its revision; after it comes only its TSA's validation data.
    expect(report.signatures[1]!.coverage).toBe('entire-revision');
    expect(report.signatures[1]!.changesAfterSigning.permitted).toBe(true);
    expect(report.signatures[1]!.changesAfterSigning.changes.every((c) => c.rule === 'dss' || c.category === 'structure' || c.rule === 'catalog')).toBe(true);
    // The same document sealed at B-B only cannot be trusted then.
    const bb = (await verify(await sealOk(svc, base, { sealId: 'scjg-official' }), { offline: 'true', validationTime: later })).signatures[0]!;
    expect(bb.indication).not.toBe('TOTAL_PASSED');
    expect(bb.subIndication).toBe('OUT_OF_BOUNDS_NO_POE');
  });
});

describe('revocation and proof of existence', () => {
  it('a certificate revoked after the timestamp: still passed; revoked before it: REVOKED', async () => {
    const sealedBefore = await sealOk(svc, base, { sealId: 'xzsp-approval', level: 'B-T' });
    const record = (await svc.service.seals.get('xzsp-approval'))!;
    const material = await svc.service.sealMaterials.material(record);
    await new Promise((r) => setTimeout(r, 1100)); // revocation strictly after the timestamp's second
    expect(await svc.service.seals.revoke('xzsp-approval', 1)).toEqual(['xzsp-approval']);
    const after = (await verify(sealedBefore)).signatures[0]!;
    expect(after.revocation.status).toBe('revoked');
    expect(after.indication, JSON.stringify(after.problems)).toBe('TOTAL_PASSED');
    await new Promise((r) => setTimeout(r, 1100));
    // A signature made with the revoked key (outside the service, which refuses revoked seals).
    const tsa = svc.service.devPki!;
    const { DevTimeStampAuthority } = await import('../../src/devpki/tsa.js');
    const made = await sealAtLevel(PdfDocument.load(base), material, {
      level: 'B-T',
      placement: { kind: 'invisible' },
      timestamper: new DevTimeStampAuthority(tsa.tsa, [tsa.sealCa.certDer]),
    });
    const revoked = (await verify(Buffer.concat(made.parts))).signatures[0]!;
    expect([revoked.indication, revoked.subIndication]).toEqual(['TOTAL_FAILED', 'REVOKED']);
    expect(revoked.conditions.creationDataExclusiveToSigner.status).toBe('not met');
    const res = await sealOkOrStatus(base);
    expect(res).toBe(409);
  });
});

async function sealOkOrStatus(pdf: Buffer): Promise<number> {
  const res = await fetch(`${svc.url}/v1/seal?sealId=xzsp-approval`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  return res.status;
}


describe('POST /v1/extend', () => {
  async function extend(pdf: Buffer, level: string): Promise<Response> {
    return fetch(`${svc.url}/v1/extend?level=${level}`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  }

  it('raises a PDF signed by @signpdf to B-LTA, keeping its signature valid in pdfsig, and renews it', async () => {
    const { PDFDocument } = await import('pdf-lib');
    const { SignPdf } = await import('@signpdf/signpdf');
    const { P12Signer } = await import('@signpdf/signer-p12');
    const { pdflibAddPlaceholder } = await import('@signpdf/placeholder-pdf-lib');
    const pki = path.join(svc.dataDir, 'pki');
    const pdfDoc = await PDFDocument.load(base);
    pdflibAddPlaceholder({ pdfDoc, reason: 'other product', contactInfo: '', name: 'other', location: '' });
    const placeholder = Buffer.from(await pdfDoc.save({ useObjectStreams: false }));
    const signed = await new SignPdf().sign(placeholder, new P12Signer(readFileSync(path.join(pki, 'seals', 'scjg-official.p12')), { passphrase: readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim() }));
    const res = await extend(signed, 'B-LTA');
    expect(res.status, await res.clone().text()).toBe(200);
    const extended = Buffer.from(await res.arrayBuffer());
    expect(extended.subarray(0, signed.length).equals(signed)).toBe(true);
    const nss = nssDbWithRoot(svc.rootPem);
    const theirs = pdfsig(writeTemp('ext.pdf', extended), nss);
    expect(theirs[0]!.signatureValid && theirs[0]!.certificateTrusted, theirs[0]!.raw).toBe(true);
    const report = await verify(extended, { offline: 'true' });
    expect(report.signatures.map((s) => s.kind)).toEqual(['signature', 'document-timestamp']);
    expect(report.signatures[0]!.revocation.source).toBe('embedded-ocsp');
    expect(report.signatures.map((s) => s.indication)).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED']);
    // Archive renewal: a second document timestamp over the first.
    const renewed = Buffer.from(await (await extend(extended, 'B-LTA')).arrayBuffer());
    const again = await verify(renewed, { offline: 'true' });
    expect(again.signatures.map((s) => s.kind)).toEqual(['signature', 'document-timestamp', 'document-timestamp']);
    expect(again.signatures.every((s) => s.integrity.signatureValid)).toBe(true);
    expect(again.signatures[1]!.changesAfterSigning.permitted).toBe(true);
  });

  it('refuses unsigned documents and bad levels', async () => {
    const unsigned = await extend(base, 'B-LT');
    expect(unsigned.status).toBe(422);
    expect(((await unsigned.json()) as { type: string }).type).toBe('/problems/not-signed');
    expect((await extend(base, 'B-B')).status).toBe(400);
  });
});

describe('TSA client', () => {
  it('gets tokens over HTTP with a nonce, and rejects answers for another request', async () => {
    const { HttpTimestamper, readTimeStampResponse, timeStampRequest, TimestampError } = await import('../../src/pki/timestamper.js');
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update('x').digest();
    const token = await new HttpTimestamper(`${svc.url}/tsa`).timestamp(digest, 'sha256');
    expect(token.length).toBeGreaterThan(500);
    const { der, nonce } = timeStampRequest(digest, 'sha256');
    const answer = Buffer.from(await (await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(der) })).arrayBuffer());
    expect(readTimeStampResponse(answer, digest, nonce).length).toBeGreaterThan(500);
    expect(() => readTimeStampResponse(answer, digest, Buffer.from([1, 2, 3]))).toThrow(TimestampError);
    expect(() => readTimeStampResponse(answer, createHash('sha256').update('y').digest(), nonce)).toThrow(/another imprint/);
    const forged = Buffer.from(answer);
    forged[forged.length - 5] = forged[forged.length - 5]! ^ 0x01; // inside the TSA's signature value
    expect(() => readTimeStampResponse(forged, digest, nonce)).toThrow(TimestampError);
    await expect(new HttpTimestamper('http://127.0.0.1:9/tsa', { timeoutMs: 500 }).timestamp(digest, 'sha256')).rejects.toThrow(TimestampError);
  });
});

describe('archive renewal across TSA certificate lifetimes', () => {
  it('a B-LTA seal renewed with a longer-lived TSA validates offline after the first TSA certificate expired', async () => {
    const { DevTimeStampAuthority } = await import('../../src/devpki/tsa.js');
    const { issueCertificate, KEY_USAGE, EXTENDED_KEY_USAGE } = await import('../../src/devpki/issue.js');
    const { extendDocument } = await import('../../src/signing/extend.js');
    const pki = svc.service.devPki!;
    const year = 365 * 86_400_000;
    // A second TSA whose certificate outlives the development TSA's (5 years).
    const longTsa = await issueCertificate(
      {
        subject: [['CN', 'Archive TSA']],
        keyKind: 'ec',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 9 * year),
        keyUsage: KEY_USAGE.digitalSignature,
        extendedKeyUsage: { usages: [EXTENDED_KEY_USAGE.timeStamping], critical: true },
        crlUrl: `${pki.issuedBaseUrl}/pki/seal-ca.crl`,
      },
      pki.sealCa,
    );
    const sealed = await sealOk(svc, base, { sealId: 'scjg-approval', level: 'B-LTA' });
    // Renewal: the first document timestamp's TSA chain goes into the DSS, then a new timestamp.
    const { pdf: renewed } = await extendDocument(sealed, 'B-LTA', { timestamper: new DevTimeStampAuthority(longTsa, [pki.sealCa.certDer]), evidence: svc.service.evidence });
    const sixYearsOn = new Date(Date.now() + 6 * year).toISOString();
    const report = await verify(renewed, { offline: 'true', validationTime: sixYearsOn });
    expect(report.signatures.map((s) => s.kind)).toEqual(['signature', 'document-timestamp', 'document-timestamp']);
    const [sig, firstStamp] = report.signatures;
    expect(sig!.timestamps[0]!.valid, JSON.stringify(sig!.timestamps[0]!.problems)).toBe(true);
    expect(sig!.indication, JSON.stringify(sig!.problems)).toBe('TOTAL_PASSED');
    expect(firstStamp!.certificatePath.status).toBe('VALID');
    // Without the renewal, six years on nothing proves when the seal was made.
    const unrenewed = (await verify(sealed, { offline: 'true', validationTime: sixYearsOn })).signatures[0]!;
    expect(unrenewed.indication).not.toBe('TOTAL_PASSED');
  });
});
