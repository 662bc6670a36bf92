/**
 * Decompression amplification on the public verifier: one compressed stream of zeros referenced
 * from /DSS many times is decoded once; many such streams exhaust the request's budget of
 * decoded bytes (MAX_DECODED_MB) and end in a 422 that names it, not in gigabytes of memory.
 */
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { PdfDict, PdfRef } from '../../src/pdf/objects.js';
import { appendRawUpdate, pdfText, type RawObject } from '../attacks/craft.js';
import { makePdf } from '../helpers/pdfs.js';
import { objectStreamBomb } from '../runtime/heavy-pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
let sealed: Buffer;
const zeros = deflateSync(Buffer.alloc(30 * 1024 * 1024)); // 30 MB of zeros in about 30 KB

beforeAll(async () => {
  svc = await startService({ MAX_DECODED_MB: '200' });
  sealed = await sealOk(svc, await makePdf(1), { sealId: 'scjg-official' });
});
afterAll(async () => svc?.close());

/** Adds `streams` distinct bomb streams and a /DSS whose /Certs names them `references` times in all. */
function withDssBombs(streams: number, references: number): Buffer {
  const doc = PdfDocument.load(sealed);
  const first = doc.size;
  const objects: RawObject[] = [];
  for (let i = 0; i < streams; i++) {
    objects.push({ num: first + i, body: `<< /Filter /FlateDecode /Length ${zeros.length} >>\nstream\n${zeros.toString('latin1')}\nendstream` });
  }
  const certs = Array.from({ length: references }, (_, i) => `${first + (i % streams)} 0 R`).join(' ');
  objects.push({ num: first + streams, body: `<< /Certs [${certs}] >>` });
  const catalog = doc.catalog().clone().set('DSS', new PdfRef(first + streams, 0));
  objects.push({ num: doc.rootRef.num, body: pdfText(catalog as PdfDict) });
  return appendRawUpdate(sealed, objects);
}

async function verify(pdf: Buffer): Promise<Response> {
  return fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
}

describe('the decode budget of a request', () => {
  it('decodes a stream referenced 150 times once: the file is verified', async () => {
    const amplified = withDssBombs(1, 150);
    expect(amplified.length).toBeLessThan(200 * 1024);
    const res = await verify(amplified);
    expect(res.status, await res.clone().text()).toBe(200);
    const report = (await res.json()) as { signatures: Array<{ integrity: { messageDigestMatches: boolean } }> };
    expect(report.signatures[0]!.integrity.messageDigestMatches).toBe(true);
  });

  it('refuses a file whose streams decode to more than MAX_DECODED_MB, naming the limit', async () => {
    const bombs = withDssBombs(12, 12); // 360 MB of zeros from about 370 KB
    const res = await verify(bombs);
    expect(res.status, await res.clone().text()).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    const problem = (await res.json()) as { type: string; detail: string; limitBytes: number };
    expect(problem.type).toMatch(/decode-budget-exceeded/);
    expect(problem.detail).toMatch(/MAX_DECODED_MB/);
    expect(problem.limitBytes).toBe(200 * 1024 * 1024);
    // the next request has a budget of its own
    expect((await verify(sealed)).status).toBe(200);
  });

  it('refuses an object-stream bomb on /v1/seal with 422 before it fills the memory', async () => {
    const seal = (pdf: Buffer): Promise<Response> =>
      fetch(`${svc.url}/v1/seal?sealId=scjg-official`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
    // The same structure, small: read through its object streams and sealed.
    const small = await seal(objectStreamBomb(3, 1024 * 1024));
    expect(small.status, await small.clone().text()).toBe(200);
    expect((await small.arrayBuffer()).byteLength).toBeGreaterThan(0);
    // 40 page objects behind 30 MB of padding each: 1.2 GB decoded if nothing stopped it.
    const bomb = objectStreamBomb(40, 30 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const res = await seal(bomb);
    expect(res.status, await res.clone().text()).toBe(422);
    const problem = (await res.json()) as { type: string; limitBytes: number };
    expect(problem.type).toBe('/problems/decode-budget-exceeded');
    expect(problem.limitBytes).toBe(200 * 1024 * 1024);
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
  });
});
