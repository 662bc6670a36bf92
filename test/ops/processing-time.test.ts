import { PDFDocument, PDFName } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDeadline, ProcessingTimeExceeded, startDeadline } from '../../src/pdf/limits/deadline.js';
import { PdfDocument } from '../../src/pdf/document.js';
import { validatePdf } from '../../src/validation/engine.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

/** Every xref offset off by a few bytes: each object has to be found by the repair scan. */
function withBrokenXref(pdf: Buffer): Buffer {
  const text = pdf.toString('latin1');
  const xrefAt = text.lastIndexOf('\nxref') + 1;
  const shifted = text.slice(xrefAt).replace(/^(\d{10}) 00000 n/gm, (_m, offset: string) => `${String(Number(offset) + 7).padStart(10, '0')} 00000 n`);
  return Buffer.from(text.slice(0, xrefAt) + shifted, 'latin1');
}

/** Runs `work` under a limit that has already run out when `work` starts. */
async function pastDeadline<T>(work: () => Promise<T>): Promise<T> {
  return startDeadline(1, async () => {
    const start = Date.now();
    while (Date.now() <= start + 2) {
      // wait out the limit
    }
    return work();
  });
}

describe('the processing-time limit', () => {
  it('does nothing outside a request, and stops parsing and validation once the time is up', async () => {
    expect(() => checkDeadline()).not.toThrow();
    const pdf = await makePdf(300);
    await expect(pastDeadline(async () => PdfDocument.load(pdf).pages())).rejects.toBeInstanceOf(ProcessingTimeExceeded);
    await expect(pastDeadline(() => validatePdf(pdf, { trustAnchors: [], offline: true }))).rejects.toThrow(/processing took longer than the limit of 0.001 s/);
    // the same work under a generous limit completes
    expect((await startDeadline(60_000, async () => PdfDocument.load(pdf).pages())).length).toBe(300);
  });

  it('fails the whole verification of a signed file out of time instead of reporting on its signature', async () => {
    const svc = await startService();
    try {
      const sealed = await sealOk(svc, await makePdf(2), { sealId: 'scjg-official' });
      const report = await validatePdf(sealed, { trustAnchors: [], offline: true });
      expect(report.signatures).toHaveLength(1);
      await expect(pastDeadline(() => validatePdf(sealed, { trustAnchors: [], offline: true }))).rejects.toBeInstanceOf(ProcessingTimeExceeded);
    } finally {
      await svc.close();
    }
  });
});

describe('PROCESSING_TIME_MS over HTTP', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ PROCESSING_TIME_MS: '1' });
  });
  afterAll(async () => svc?.close());

  it('answers 422 problem+json when a document takes too long, and the service stays up', async () => {
    const slow = withBrokenXref(await makePdf(3000));
    for (const path of ['/v1/verify', `/v1/seal?sealId=scjg-official`]) {
      const res = await fetch(`${svc.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(slow) });
      expect(res.status, path).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await res.json()) as { type: string; limitMs: number };
      expect(problem.type).toBe('/problems/processing-time-exceeded');
      expect(problem.limitMs).toBe(1);
    }
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });
});

describe('MAX_PDF_NESTING', () => {
  /** A one-page PDF whose catalog holds arrays nested `depth` deep. */
  async function nestedPdf(depth: number): Promise<Buffer> {
    const pdf = await PDFDocument.create();
    pdf.addPage();
    let value = pdf.context.obj([1]);
    for (let i = 1; i < depth; i++) value = pdf.context.obj([value]);
    pdf.catalog.set(PDFName.of('Nested'), value);
    return Buffer.from(await pdf.save({ useObjectStreams: false }));
  }

  it('is configurable: the same file passes the default and is refused under a tighter limit', async () => {
    const pdf = await nestedPdf(40);
    const loose = await startService();
    const tight = await startService({ MAX_PDF_NESTING: '16' });
    try {
      const verify = (svc: RunningService) => fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
      expect((await verify(loose)).status).toBe(200);
      const refused = await verify(tight);
      expect(refused.status).toBe(413);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/nested too deeply/);
    } finally {
      await loose.close();
      await tight.close();
    }
  });
});
