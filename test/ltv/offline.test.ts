import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENDED_KEY_USAGE, issueCertificate, issueSealCertificate, KEY_USAGE } from '../../src/devpki/issue.js';
import { DevTimeStampAuthority } from '../../src/devpki/tsa.js';
import { PdfDocument } from '../../src/pdf/document.js';
import { decodeStream } from '../../src/pdf/filters.js';
import { IncrementalUpdate } from '../../src/pdf/incremental.js';
import { PdfDict, PdfRef, PdfStream, PdfString } from '../../src/pdf/objects.js';
import { findSignatures } from '../../src/pdf/signatures.js';
import { readCertFields } from '../../src/pki/cert-fields.js';
import { readPkcs12 } from '../../src/pki/pfx.js';
import { parseCrl } from '../../src/revocation/crl.js';
import { extendDocument } from '../../src/signing/extend.js';
import type { ValidationReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, qpdfCheck, writeTemp } from '../helpers/tools.js';
import { material, sealWith } from '../validation/fixtures.js';

const YEAR = 365 * 86_400_000;
let svc: RunningService;
let base: Buffer;

beforeAll(async () => {
  svc = await startService();
  base = await makePdf(1);
});
afterAll(async () => svc?.close());

async function verify(pdf: Buffer, query: Record<string, string> = {}): Promise<ValidationReport> {
  const res = await fetch(`${svc.url}/v1/verify?${new URLSearchParams(query)}`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status).toBe(200);
  return (await res.json()) as ValidationReport;
}

function extend(pdf: Buffer, query: Record<string, string>): Promise<Response> {
  return fetch(`${svc.url}/v1/extend?${new URLSearchParams(query)}`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
}

async function extendOk(pdf: Buffer, level: string): Promise<{ pdf: Buffer; reached: string | null; missing: string | null }> {
  const res = await extend(pdf, { level });
  expect(res.status, await res.clone().text()).toBe(200);
  return { pdf: Buffer.from(await res.arrayBuffer()), reached: res.headers.get('x-pades-level'), missing: res.headers.get('x-ltv-missing') };
}

/**
 * The VRI key of every signature, computed from the file's bytes: the /Contents string is the
 * gap of its /ByteRange, `<hex>`; its bytes as stored (padding included) are hashed with SHA-1.
 */
function vriKeysFromBytes(pdf: Buffer): Map<string, string> {
  const keys = new Map<string, string>();
  for (const sig of findSignatures(PdfDocument.load(pdf))) {
    const [, len1, start2] = sig.byteRange!;
    const gap = pdf.toString('latin1', len1!, start2!);
    expect(gap).toMatch(/^<[0-9A-Fa-f]+>$/);
    keys.set(sig.fieldName, createHash('sha1').update(Buffer.from(gap.slice(1, -1), 'hex')).digest('hex').toUpperCase());
  }
  return keys;
}

interface DssView {
  doc: PdfDocument;
  arrays: Record<'Certs' | 'OCSPs' | 'CRLs', number[]>;
  vri: PdfDict;
}

function dssOf(pdf: Buffer): DssView {
  const doc = PdfDocument.load(pdf);
  const dss = doc.resolveDict(doc.catalog().get('DSS'))!;
  const nums = (key: string): number[] => ((doc.resolve(dss.get(key)) as unknown[]) ?? []).map((r) => (r as PdfRef).num);
  return { doc, arrays: { Certs: nums('Certs'), OCSPs: nums('OCSPs'), CRLs: nums('CRLs') }, vri: doc.resolveDict(dss.get('VRI'))! };
}

/** The decoded streams a VRI entry lists under `key`, each checked to be in the DSS array too. */
function vriStreams(view: DssView, vriKey: string, key: 'Cert' | 'OCSP' | 'CRL'): Buffer[] {
  const entry = view.doc.resolveDict(view.vri.get(vriKey));
  expect(entry, `VRI entry ${vriKey}`).toBeDefined();
  const refs = (view.doc.resolve(entry!.get(key)) as PdfRef[] | undefined) ?? [];
  const dssKey = ({ Cert: 'Certs', OCSP: 'OCSPs', CRL: 'CRLs' } as const)[key];
  for (const ref of refs) expect(view.arrays[dssKey]).toContain(ref.num);
  return refs.map((ref) => decodeStream(view.doc.resolve(ref) as PdfStream));
}

/** A new revision whose /DSS no longer lists the CRLs of `issuerDer` (the TSA's CA). */
function withoutCrlsOf(pdf: Buffer, issuerDer: Buffer): Buffer {
  const doc = PdfDocument.load(pdf);
  const dss = doc.resolveDict(doc.catalog().get('DSS'))!;
  const kept = (doc.resolve(dss.get('CRLs')) as PdfRef[]).filter((ref) => !parseCrl(decodeStream(doc.resolve(ref) as PdfStream)).issuerDer.equals(issuerDer));
  const update = new IncrementalUpdate(doc);
  update.set(doc.rootRef, doc.catalog().clone().set('DSS', update.add(dss.clone().set('CRLs', kept))));
  return Buffer.concat([pdf, update.write()]);
}

function expectAllPassed(report: ValidationReport): void {
  for (const sig of report.signatures) {
    expect(sig.indication, `${sig.kind} ${sig.fieldName}: ${JSON.stringify(sig.problems)} ${JSON.stringify(sig.revocation)}`).toBe('TOTAL_PASSED');
    for (const ts of sig.timestamps) expect(ts.valid, JSON.stringify(ts.problems)).toBe(true);
  }
}

describe('/VRI entries', () => {
  it('B-LT: one per signature, keyed by the SHA-1 of its /Contents, listing streams of the /DSS; pdfsig and qpdf accept the file', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-approval', level: 'B-LT' });
    const keys = vriKeysFromBytes(sealed);
    expect(keys.size).toBe(1);
    const [key] = [...keys.values()];
    const view = dssOf(sealed);
    expect([...view.vri.entries.keys()]).toEqual([key]);
    const entry = view.doc.resolveDict(view.vri.get(key!))!;
    expect((view.doc.resolve(entry.get('TU')) as PdfString).toText()).toMatch(/^D:\d{14}Z$/);
    const pki = svc.service.devPki!;
    const signer = pki.seals.find((s) => s.id === 'scjg-approval')!.chainDer[0]!;
    const certs = vriStreams(view, key!, 'Cert');
    for (const der of [signer, pki.sealCa.certDer, pki.tsa.certDer]) expect(certs.some((c) => c.equals(der))).toBe(true);
    expect(vriStreams(view, key!, 'OCSP').length).toBeGreaterThanOrEqual(1);
    expect(vriStreams(view, key!, 'CRL').map((c) => parseCrl(c).issuerDer.toString('hex'))).toContain(readCertFields(pki.sealCa.certDer).subjectDer.toString('hex'));
    expect(qpdfCheck(writeTemp('vri.pdf', sealed)).ok).toBe(true);
    const theirs = pdfsig(writeTemp('vri.pdf', sealed), nssDbWithRoot(svc.rootPem))[0]!;
    expect(theirs.signatureValid && theirs.certificateTrusted, theirs.raw).toBe(true);
  });

  it('/v1/extend adds entries for the document timestamps, with their TSA chain, and keeps what was there', async () => {
    const lt = await sealOk(svc, base, { sealId: 'xzsp-official', level: 'B-LT' });
    const before = dssOf(lt);
    const { pdf: lta, reached, missing } = await extendOk(lt, 'B-LTA');
    expect([reached, missing]).toEqual(['B-LTA', '0']);
    const { pdf: renewed } = await extendOk(lta, 'B-LTA');
    const keys = vriKeysFromBytes(renewed);
    expect(keys.size).toBe(3); // the seal and two document timestamps
    const after = dssOf(renewed);
    expect([...after.vri.entries.keys()].sort()).toEqual([...keys.values()].sort());
    for (const kind of ['Certs', 'OCSPs', 'CRLs'] as const) for (const num of before.arrays[kind]) expect(after.arrays[kind]).toContain(num);
    const tsaIssuer = readCertFields(svc.service.devPki!.tsa.certDer).issuerDer;
    for (const [field, key] of keys) {
      if (field === findSignatures(after.doc)[0]!.fieldName) continue;
      expect(vriStreams(after, key, 'Cert').some((c) => c.equals(svc.service.devPki!.tsa.certDer))).toBe(true);
      expect(vriStreams(after, key, 'CRL').some((c) => parseCrl(c).issuerDer.equals(tsaIssuer))).toBe(true);
    }
    expect(qpdfCheck(writeTemp('renewed.pdf', renewed)).ok).toBe(true);
    const theirs = pdfsig(writeTemp('renewed.pdf', renewed), nssDbWithRoot(svc.rootPem));
    expect(theirs.length).toBe(3);
    expect(theirs[0]!.signatureValid && theirs[0]!.certificateTrusted, theirs[0]!.raw).toBe(true);
  });
});

describe('offline validation years later', () => {
  it('B-LTA after the seal certificate expired: every signature and timestamp passes from the embedded evidence alone, and not without the TSA evidence', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-official', level: 'B-LTA' });
    const pki = svc.service.devPki!;
    const later = new Date(Date.now() + 4 * YEAR); // seal certificates live 3 years, the TSA's 5
    const report = await verify(sealed, { offline: 'true', validationTime: later.toISOString() });
    expect(report.signatures.map((s) => s.kind)).toEqual(['signature', 'document-timestamp']);
    expect(report.signatures[0]!.problems.join(' ')).toMatch(/expired/);
    expectAllPassed(report);
    expect(report.signatures[0]!.timestamps[0]!.revocation).toMatchObject({ checked: true, status: 'good', source: 'embedded-crl' });
    expect(report.signatures[1]!.revocation).toMatchObject({ checked: true, status: 'good', source: 'embedded-crl' });

    const stripped = withoutCrlsOf(sealed, readCertFields(pki.tsa.certDer).issuerDer);
    const without = await verify(stripped, { offline: 'true', validationTime: later.toISOString() });
    const [sig, stamp] = without.signatures;
    expect(sig!.timestamps[0]!.valid).toBe(false);
    expect(sig!.timestamps[0]!.problems.join(' ')).toMatch(/revocation status unknown/);
    expect([stamp!.indication, stamp!.subIndication]).toEqual(['INDETERMINATE', 'TRY_LATER']);
    // Online, the same stripped file is fine again: the evidence was the only thing missing.
    const online = await verify(stripped, { validationTime: later.toISOString() });
    expect(online.signatures[1]!.revocation.status).toBe('good');
  });

  it('archive renewal: after the first TSA certificate expired, a later document timestamp keeps everything valid offline', async () => {
    const pki = svc.service.devPki!;
    const archiveTsa = await issueCertificate(
      {
        subject: [['CN', 'Archive TSA (test)']],
        keyKind: 'ec',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 9 * YEAR),
        keyUsage: KEY_USAGE.digitalSignature,
        extendedKeyUsage: { usages: [EXTENDED_KEY_USAGE.timeStamping], critical: true },
        crlUrl: `${pki.issuedBaseUrl}/pki/seal-ca.crl`,
      },
      pki.sealCa,
    );
    const sealed = await sealOk(svc, base, { sealId: 'xzsp-approval', level: 'B-LTA' });
    const renewed = await extendDocument(sealed, 'B-LTA', { timestamper: new DevTimeStampAuthority(archiveTsa, [pki.sealCa.certDer]), evidence: svc.service.evidence });
    expect([renewed.reached, renewed.missing]).toEqual(['B-LTA', []]);
    const sixYearsOn = new Date(Date.now() + 6 * YEAR).toISOString(); // the development TSA's certificate lives 5
    const report = await verify(renewed.pdf, { offline: 'true', validationTime: sixYearsOn });
    expect(report.signatures.map((s) => s.kind)).toEqual(['signature', 'document-timestamp', 'document-timestamp']);
    expectAllPassed(report);
    expect(report.signatures[1]!.problems.join(' ')).toMatch(/expired/);
    // Without the renewal the first document timestamp has nothing left to stand on.
    const unrenewed = await verify(sealed, { offline: 'true', validationTime: sixYearsOn });
    expect(unrenewed.signatures[1]!.indication).not.toBe('TOTAL_PASSED');
  });
});

describe('/v1/extend with revocation data that cannot be fetched', () => {
  const DEAD = 'http://127.0.0.1:1';
  let signed: Buffer;
  let serial: string;

  beforeAll(async () => {
    // A test CA under the development root (its own status comes from the root's CRL), whose
    // seal certificates name an OCSP responder and a CRL on a closed port. (A seal certificate
    // of the development seal CA would not do: that CA's CRL, embedded for the TSA, covers it.)
    const pki = svc.service.devPki!;
    const root = readPkcs12(readFileSync(path.join(svc.dataDir, 'pki', 'root.p12')), pki.keystorePassword);
    const testCa = await issueCertificate(
      {
        subject: [['CN', 'Test CA with unreachable status']],
        keyKind: 'ec',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 5 * YEAR),
        ca: { pathLength: 0 },
        keyUsage: KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign,
        crlUrl: `${pki.issuedBaseUrl}/pki/root.crl`,
      },
      { certDer: root.chainDer[0]!, privateKey: root.privateKey },
    );
    const cert = await issueSealCertificate({ orgName: '测试市某局', uscc: '11370500MB0100009X', sealName: '', keyKind: 'ec', baseUrl: DEAD }, testCa);
    serial = readCertFields(cert.certDer).serialHex.toUpperCase();
    signed = await sealWith(base, material(cert, [testCa.certDer, root.chainDer[0]!]));
  });

  it('says which certificates lack data in headers, and never claims the level', async () => {
    const res = await extend(signed, { level: 'B-LTA' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('x-ltv-missing')).toBe('1');
    expect(res.headers.get('x-pades-level')).toBe('B-T'); // time from the document timestamp, validation data incomplete
    const list = res.headers.get('x-ltv-missing-certificates')!;
    expect(list).toMatch(/^[\x20-\x7e]+$/);
    const fields = Object.fromEntries(list.split(';').map((p) => p.split('=') as [string, string]));
    expect(fields.serial).toBe(serial);
    expect(decodeURIComponent(fields.subject!)).toContain('测试市某局');
    expect(decodeURIComponent(fields.issuer!)).toContain('Test CA with unreachable status');
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, signed.length).equals(signed)).toBe(true);
    const report = await verify(pdf, { offline: 'true' });
    expect(report.signatures[0]!.integrity.signatureValid).toBe(true);
    expect(report.signatures[0]!.indication).not.toBe('TOTAL_PASSED');
  });

  it('?report=true answers JSON with the levels, the missing certificates and the PDF', async () => {
    const res = await extend(signed, { level: 'B-LT', report: 'true' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { requested: string; reached: string; complete: boolean; missing: Array<{ subject: string; issuer: string; serialNumber: string; reason: string }>; pdf: string };
    expect(body).toMatchObject({ requested: 'B-LT', reached: 'B-B', complete: false });
    expect(body.missing).toHaveLength(1);
    expect(body.missing[0]!.serialNumber.toUpperCase()).toBe(serial);
    expect(body.missing[0]!.subject).toContain('测试市某局');
    expect(body.missing[0]!.reason).toContain('127.0.0.1:1');
    const pdf = Buffer.from(body.pdf, 'base64');
    expect(pdf.subarray(0, signed.length).equals(signed)).toBe(true);
    expect(dssOf(pdf).arrays.Certs.length).toBeGreaterThan(0);
  });

  it('?strict=true refuses with 422 ltv-incomplete naming the certificates, and returns no PDF', async () => {
    const res = await extend(signed, { level: 'B-LTA', strict: 'true' });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { type: string; detail: string; missing: Array<{ serialNumber: string }>; pdf?: unknown };
    expect(problem.type).toBe('/problems/ltv-incomplete');
    expect(problem.missing.map((m) => m.serialNumber.toUpperCase())).toEqual([serial]);
    expect(problem.detail).toContain('测试市某局');
    expect(problem.pdf).toBeUndefined();
    expect((await extend(signed, { level: 'B-LTA', strict: 'maybe' })).status).toBe(400);
  });

  it('complete data: B-LT, then B-LTA once a time exists before the archive timestamp', async () => {
    const bb = await sealOk(svc, base, { sealId: 'scjg-official' });
    const first = await extendOk(bb, 'B-LTA');
    expect([first.reached, first.missing]).toEqual(['B-LT', '0']); // the new document timestamp is its B-T
    const second = await extendOk(first.pdf, 'B-LTA');
    expect(second.reached).toBe('B-LTA');
    const strict = await extend(bb, { level: 'B-LT', strict: 'true', report: 'true' });
    expect(((await strict.json()) as { reached: string; complete: boolean })).toMatchObject({ reached: 'B-B', complete: true });
  });
});
