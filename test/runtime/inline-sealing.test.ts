/**
 * Small B-B sealing jobs run on the HTTP thread (runtime/inline-sealing.ts); a job past the
 * thread's small limits, a larger document and a higher level run in a PDF thread. Where a job
 * ran is read from the service's metrics; every sealed file is checked by pdfsig.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chargeDecoded } from '../../src/pdf/limits/work-budget.js';
import { INLINE_WORK_LIMITS } from '../../src/runtime/inline-sealing.js';
import { makeLargePdf, makePdf } from '../helpers/pdfs.js';
import { sealOk, sealRequest, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, qpdfCheck, writeTemp } from '../helpers/tools.js';
import { objectStreamBomb } from './heavy-pdfs.js';

let svc: RunningService;
let nssDir: string;

beforeAll(async () => {
  // A time limit no loaded machine reaches with an ordinary document: these tests are about which
  // documents run where, not about time (the work budget moves the heavy one).
  svc = await startService({ SEAL_INLINE_MS: '1000' });
  nssDir = nssDbWithRoot(svc.rootPem);
});
afterAll(async () => svc?.close());

/** Sealing jobs by where they ran, from the service's metrics. */
async function jobsByPlace(): Promise<Record<string, number>> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^eseal_seal_jobs_total\{ran="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** What ran where during `work`. */
async function placesOf(work: () => Promise<void>): Promise<Record<string, number>> {
  const before = await jobsByPlace();
  await work();
  const after = await jobsByPlace();
  return Object.fromEntries(Object.entries(after).flatMap(([place, n]) => (n - (before[place] ?? 0) > 0 ? [[place, n - (before[place] ?? 0)]] : [])));
}

function expectValid(name: string, sealed: Buffer): void {
  const file = writeTemp(name, sealed);
  expect(pdfsig(file, nssDir).at(-1)).toMatchObject({ signatureValid: true, certificateTrusted: true, totalDocument: true });
  expect(qpdfCheck(file).ok).toBe(true);
}

describe('sealing on the HTTP thread', () => {
  it('seals a small B-B document on the HTTP thread, with the seal key there, and no PDF thread', async () => {
    const pdf = await makePdf(1);
    const official = await svc.service.sealMaterials.material((await svc.service.seals.get('scjg-official'))!);
    const signing = vi.spyOn(official.cms.signer, 'sign');
    const pooled = vi.spyOn(svc.service.pdfPool, 'seal');
    let sealed!: Buffer;
    expect(await placesOf(async () => void (sealed = await sealOk(svc, pdf, { sealId: 'scjg-official' })))).toEqual({ 'http-thread': 1 });
    expect(signing).toHaveBeenCalledTimes(1);
    expect(pooled).not.toHaveBeenCalled();
    signing.mockRestore();
    pooled.mockRestore();
    expectValid('inline.pdf', sealed);
  });

  it('signs each of many concurrent small documents with its own seal', async () => {
    const pdf = await makePdf(1);
    const seals = ['scjg-official', 'xzsp-official', 'zrzy-official', 'xzsp-approval'];
    const requests = Array.from({ length: 12 }, (_, i) => seals[i % seals.length]!);
    let results: Buffer[] = [];
    expect(await placesOf(async () => void (results = await Promise.all(requests.map((sealId) => sealOk(svc, pdf, { sealId })))))).toEqual({ 'http-thread': requests.length });
    for (const [i, sealed] of results.entries()) {
      const report = (await (await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(sealed) })).json()) as {
        signatures: Array<{ indication: string; seal?: { id: string } }>;
      };
      expect(report.signatures).toHaveLength(1);
      expect(report.signatures[0]).toMatchObject({ indication: 'TOTAL_PASSED', seal: { id: requests[i] } });
    }
    // pdfsig knows no SM2; the others it checks itself.
    for (const [i, sealed] of results.entries()) if (requests[i] !== 'zrzy-official') expectValid(`concurrent-${i}.pdf`, sealed);
  });

  it('moves a small document that decodes past the HTTP thread\'s budget to a PDF thread, which seals it', async () => {
    // About 6 MB of object stream in a few kilobytes: past the 4 MB the HTTP thread may decode, far below the full budget.
    const bomb = objectStreamBomb(1, 6 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(64 * 1024);
    // The key signs once for the document: the HTTP thread gave up before signing.
    const official = await svc.service.sealMaterials.material((await svc.service.seals.get('scjg-official'))!);
    const signing = vi.spyOn(official.cms.signer, 'sign');
    const pool = svc.service.pdfPool;
    const poolSeal = pool.seal.bind(pool);
    let signedForPool = 0;
    const pooled = vi.spyOn(pool, 'seal').mockImplementation((job, sign) =>
      poolSeal(job, (data, digest) => {
        signedForPool++;
        return sign(data, digest);
      }),
    );
    let sealed!: Buffer;
    try {
      expect(await placesOf(async () => void (sealed = await sealOk(svc, bomb, { sealId: 'scjg-official' })))).toEqual({ 'pdf-thread-after-limits': 1 });
      expect(pooled).toHaveBeenCalledTimes(1);
      expect(signing.mock.calls.length).toBe(signedForPool);
    } finally {
      signing.mockRestore();
      pooled.mockRestore();
    }
    expectValid('after-limits.pdf', sealed);
  });

  it('does not seal again in a PDF thread a job whose limits ran out here after its key had signed: one signature, and the limit\'s problem', async () => {
    const official = await svc.service.sealMaterials.material((await svc.service.seals.get('scjg-official'))!);
    const keySign = official.cms.signer.sign.bind(official.cms.signer);
    // The job's work budget runs out while the key signs (charged here and swallowed, as a
    // careless reader might), so the job fails its budget only after the signature exists.
    const signing = vi.spyOn(official.cms.signer, 'sign').mockImplementation((data, digest) => {
      try {
        chargeDecoded(INLINE_WORK_LIMITS.decodedBytes + 1);
      } catch {
        // recorded by the budget all the same
      }
      return keySign(data, digest);
    });
    const pooled = vi.spyOn(svc.service.pdfPool, 'seal');
    try {
      const response = await sealRequest(svc, await makePdf(1), { sealId: 'scjg-official' });
      expect(response.status).toBe(422);
      // Named for the HTTP thread's own budget, which ran out, not the full one (MAX_DECODED_MB).
      const { detail } = (await response.json()) as { detail: string };
      expect(detail).toContain(`limit of ${INLINE_WORK_LIMITS.decodedBytes / (1024 * 1024)} MB of stream data it is given on the service's HTTP thread`);
      expect(detail).not.toContain('MAX_DECODED_MB');
      expect(signing).toHaveBeenCalledTimes(1);
      expect(pooled).not.toHaveBeenCalled();
    } finally {
      signing.mockRestore();
      pooled.mockRestore();
    }
  });

  it('sends a document over SEAL_INLINE_MAX_BYTES, and a level above B-B, to a PDF thread', async () => {
    const large = await makeLargePdf(0.1, 1);
    expect(large.length).toBeGreaterThan(64 * 1024);
    let sealed!: Buffer;
    expect(await placesOf(async () => void (sealed = await sealOk(svc, large, { sealId: 'scjg-official' })))).toEqual({ 'pdf-thread': 1 });
    expectValid('large.pdf', sealed);
    expect(await placesOf(async () => void (sealed = await sealOk(svc, await makePdf(1), { sealId: 'scjg-official', level: 'B-T' })))).toEqual({ 'pdf-thread': 1 });
    expectValid('b-t.pdf', sealed);
  });

  it('answers the same problem for a broken document as a PDF thread does', async () => {
    const broken = Buffer.from('%PDF-1.7\nthis is no PDF body at all\n%%EOF\n');
    const here = await sealRequest(svc, broken, { sealId: 'scjg-official' });
    const threads = await startService({ SEAL_INLINE_MAX_BYTES: '0' });
    try {
      const there = await sealRequest(threads, broken, { sealId: 'scjg-official' });
      expect(here.status).toBe(there.status);
      expect(here.status).toBeGreaterThanOrEqual(400);
      expect(here.status).toBeLessThan(500);
      expect(((await here.json()) as { type: string }).type).toBe(((await there.json()) as { type: string }).type);
    } finally {
      await threads.close();
    }
  });
});
