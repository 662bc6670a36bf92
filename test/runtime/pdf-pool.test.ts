/**
 * PDF work runs in worker threads: a heavy file occupies a worker, not the HTTP thread, so the
 * service keeps answering; work beyond the workers and their queue is refused with 503 and
 * Retry-After; and each job's time, parsed values and memory are bounded, the thread replaced
 * when it had to be ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { findSignatures } from '../../src/pdf/signatures.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { hugeFieldArray, manySignatures } from './heavy-pdfs.js';

let plain: Buffer;
let sealed: Buffer;
let heavy: Buffer;

beforeAll(async () => {
  const svc = await startService();
  try {
    plain = await makePdf(1);
    sealed = await sealOk(svc, plain, { sealId: 'scjg-official' });
  } finally {
    await svc.close();
  }
  // About 14 s of hashing on an idle core: far beyond the 4 s these services allow a job.
  heavy = manySignatures(findSignatures(PdfDocument.load(sealed))[0]!.contents!, 1200);
});

function verify(svc: RunningService, pdf: Buffer): Promise<Response> {
  return fetch(`${svc.url}/v1/verify?offline=true`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
}

async function threadStats(svc: RunningService): Promise<{ busy: number; queued: number; threads: number }> {
  const res = await fetch(`${svc.url}/readyz`, { headers: { authorization: `Bearer ${svc.token}` } });
  return ((await res.json()) as { pdfThreads: { busy: number; queued: number; threads: number } }).pdfThreads;
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting until ${what}`);
}

describe('a saturated PDF worker pool', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ PDF_THREADS: '1', PDF_QUEUE: '1', PROCESSING_TIME_MS: '4000' });
  });
  afterAll(async () => svc?.close());

  it('keeps the HTTP thread answering, refuses work beyond its queue with 503 + Retry-After, and recovers', async () => {
    let firstSettled = false;
    const first = verify(svc, heavy).finally(() => {
      firstSettled = true;
    });
    await until('the heavy file occupies the only thread', async () => (await threadStats(svc)).busy === 1);
    const second = verify(svc, heavy);
    await until('a second heavy file waits in the queue', async () => (await threadStats(svc)).queued === 1);

    const refused = await verify(svc, sealed);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await refused.json()) as { type: string }).type).toBe('/problems/server-busy');

    // The thread is still on the first file, and the service answers meanwhile.
    const health = await fetch(`${svc.url}/healthz`);
    expect(health.status).toBe(200);
    expect(firstSettled).toBe(false);

    for (const res of [await first, await second]) {
      expect(res.status).toBe(422);
      expect(((await res.json()) as { type: string }).type).toBe('/problems/processing-time-exceeded');
    }
    const after = await verify(svc, sealed);
    expect(after.status).toBe(200);
    expect(((await after.json()) as { signatures: unknown[] }).signatures).toHaveLength(1);
    expect(await threadStats(svc)).toEqual({ threads: 1, busy: 0, queued: 0, queueLimit: 1 });
  });
});

describe('the work budget inside a worker', () => {
  it('ends a job that outgrows the thread heap with 422 memory-budget-exceeded, and replaces the thread', async () => {
    const svc = await startService({ PDF_THREAD_HEAP_MB: '64' });
    try {
      const res = await verify(svc, hugeFieldArray(2_500_000));
      expect(res.status).toBe(422);
      const problem = (await res.json()) as { type: string; limitMb: number; detail: string };
      expect(problem.type).toBe('/problems/memory-budget-exceeded');
      expect(problem.limitMb).toBe(64);
      expect(problem.detail).toMatch(/PDF_THREAD_HEAP_MB/);
      const after = await verify(svc, sealed);
      expect(after.status).toBe(200);
    } finally {
      await svc.close();
    }
  });

  it('refuses a file with more parsed values than MAX_PDF_VALUES, naming the limit', async () => {
    const svc = await startService({ MAX_PDF_VALUES: '20000' });
    try {
      const res = await verify(svc, hugeFieldArray(50_000));
      expect(res.status).toBe(422);
      const problem = (await res.json()) as { type: string; limitValues: number; detail: string };
      expect(problem.type).toBe('/problems/object-budget-exceeded');
      expect(problem.limitValues).toBe(20000);
      expect(problem.detail).toMatch(/MAX_PDF_VALUES/);
      // Within the limit the same kind of file is read.
      expect((await verify(svc, hugeFieldArray(5_000))).status).toBe(200);
    } finally {
      await svc.close();
    }
  });
});
