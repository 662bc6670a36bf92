/**
 * Authority is what it is when the document is signed, not when its upload began: a seal
 * revoked, or a client disabled, while the body is still arriving or while the document waits
 * for a PDF thread gets nothing sealed. The tests of the PDF thread's path set
 * SEAL_INLINE_MAX_BYTES=0, since their small document would otherwise seal on the HTTP thread.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { findSignatures } from '../../src/pdf/signatures.js';
import { makePdf } from '../helpers/pdfs.js';
import { nssDbWithRoot, pdfsig, writeTemp } from '../helpers/tools.js';
import { sealOk, sealRequest, startService, type RunningService } from '../helpers/service.js';
import { manySignatures } from '../runtime/heavy-pdfs.js';

let svc: RunningService;
let pdf: Buffer;

beforeAll(async () => {
  svc = await startService();
  pdf = await makePdf(1);
});
afterAll(async () => svc?.close());

/**
 * Sends the PDF in two halves; `between` runs after the first half has reached the server and
 * before the second is sent.
 */
async function sealWithPause(token: string, sealId: string, between: () => Promise<void>): Promise<Response> {
  let release!: () => void;
  const paused = new Promise<void>((resolve) => (release = resolve));
  const half = Math.floor(pdf.length / 2);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      controller.enqueue(new Uint8Array(pdf.subarray(0, half)));
      await paused;
      controller.enqueue(new Uint8Array(pdf.subarray(half)));
      controller.close();
    },
  });
  const response = fetch(`${svc.url}/v1/seal?sealId=${sealId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf', 'content-length': String(pdf.length) },
    body,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
  await new Promise((resolve) => setTimeout(resolve, 200)); // the first half is on its way
  await between();
  release();
  return response;
}

describe('authority at the moment of signing', () => {
  it('a seal revoked while the document is uploading is not applied', async () => {
    const admin = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
    const res = await sealWithPause(svc.token, 'xzsp-approval', async () => {
      const revoked = await fetch(`${svc.url}/v1/seals/xzsp-approval/revoke`, { method: 'POST', headers: admin, body: '{}' });
      expect(revoked.status).toBe(200);
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { type: string }).type).toMatch(/seal-not-active/);
  });

  it('a client disabled while the document is uploading gets nothing sealed', async () => {
    const { client, token } = await svc.service.clients.create('approval system', ['seal'], ['scjg-approval']);
    const res = await sealWithPause(token, 'scjg-approval', async () => {
      expect(await svc.service.clients.disable(client.id)).toBe(true);
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});

interface PoolStats {
  busy: number;
  queued: number;
}

/** The PDF pool's counts, as /readyz shows them to an administrator. */
async function poolStats(svc: RunningService): Promise<PoolStats> {
  const res = await fetch(`${svc.url}/readyz`, { headers: { authorization: `Bearer ${svc.token}` } });
  return ((await res.json()) as { pdfThreads: PoolStats }).pdfThreads;
}

/** Waits, 15 s at most, until the pool's counts satisfy `condition`. */
async function waitForPool(svc: RunningService, condition: (stats: PoolStats) => boolean): Promise<void> {
  for (let i = 0; i < 600 && !condition(await poolStats(svc)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

/**
 * Gives the service's only PDF thread a verification that runs out its processing time, after
 * one seal with scjg-official (whose signature the heavy file repeats); returns once the thread
 * is busy.
 */
async function occupyOnlyThread(svc: RunningService): Promise<{ occupying: Promise<Response> }> {
  const sealed = await sealOk(svc, pdf, { sealId: 'scjg-official' });
  const heavy = manySignatures(findSignatures(PdfDocument.load(sealed))[0]!.contents!, 1200);
  const occupying = fetch(`${svc.url}/v1/verify?offline=true`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(heavy) });
  await waitForPool(svc, (stats) => stats.busy === 1);
  return { occupying };
}

describe('authority when the key signs', () => {
  it('a seal revoked while its document waits for a PDF thread is never used to sign', async () => {
    const busy = await startService({ PDF_THREADS: '1', PROCESSING_TIME_MS: '3000', SEAL_INLINE_MAX_BYTES: '0' });
    try {
      // The only thread verifies a file that runs out its 3 s; the seal request queues behind it.
      const { occupying } = await occupyOnlyThread(busy);
      const approval = await busy.service.sealMaterials.material((await busy.service.seals.get('scjg-approval'))!);
      const signing = vi.spyOn(approval.cms.signer, 'sign');
      const queued = sealRequest(busy, pdf, { sealId: 'scjg-approval' });
      await waitForPool(busy, (stats) => stats.queued === 1);
      expect(await poolStats(busy)).toMatchObject({ busy: 1, queued: 1 });
      const revoked = await fetch(`${busy.url}/v1/seals/scjg-approval/revoke`, { method: 'POST', headers: { authorization: `Bearer ${busy.token}`, 'content-type': 'application/json' }, body: '{}' });
      expect(revoked.status).toBe(200);

      const res = await queued;
      expect(res.status).toBe(409);
      expect(((await res.json()) as { type: string }).type).toBe('/problems/seal-not-active');
      expect((await occupying).status).toBe(422);
      expect(signing).not.toHaveBeenCalled();
      const applied = await busy.service.db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE action = 'seal'");
      expect(applied.map((a) => a.subject)).toEqual(['scjg-official']);
    } finally {
      await busy.close();
    }
  });
});

describe('where the key signs', () => {
  it('a document that goes straight to a PDF thread is signed there with the seal key (pdfsig accepts it); with SEAL_STANDING_FRESH_MS=0 on the HTTP thread', async () => {
    // A window wide enough that a loaded machine cannot close it: this is about where the key signs.
    for (const [fresh, signsOnHttpThread] of [['60000', false], ['0', true]] as const) {
      const own = await startService({ SEAL_STANDING_FRESH_MS: fresh, SEAL_INLINE_MAX_BYTES: '0' });
      try {
        const official = await own.service.sealMaterials.material((await own.service.seals.get('scjg-official'))!);
        const onHttpThread = vi.spyOn(official.cms.signer, 'sign');
        const sealed = await sealOk(own, pdf, { sealId: 'scjg-official' });
        expect(onHttpThread).toHaveBeenCalledTimes(signsOnHttpThread ? 1 : 0);
        const [theirs] = pdfsig(writeTemp('signed-in-thread.pdf', sealed), nssDbWithRoot(own.rootPem));
        expect(theirs).toMatchObject({ signatureValid: true, certificateTrusted: true, totalDocument: true });
      } finally {
        await own.close();
      }
    }
  });

  it('a document that waited for a PDF thread is signed on the HTTP thread, after the seal is read again', async () => {
    const busy = await startService({ PDF_THREADS: '1', PROCESSING_TIME_MS: '3000', SEAL_INLINE_MAX_BYTES: '0' });
    try {
      // The only thread verifies a file that runs out its 3 s; the seal request waits behind it.
      const { occupying } = await occupyOnlyThread(busy);
      const official = await busy.service.sealMaterials.material((await busy.service.seals.get('scjg-official'))!);
      const onHttpThread = vi.spyOn(official.cms.signer, 'sign');
      const standings = vi.spyOn(busy.service.seals, 'standing');
      const queued = sealRequest(busy, pdf, { sealId: 'scjg-official' });
      await waitForPool(busy, (stats) => stats.queued === 1);
      expect(await poolStats(busy)).toMatchObject({ busy: 1, queued: 1 });
      const res = await queued;
      expect(res.status).toBe(200);
      expect((await occupying).status).toBe(422);
      expect(onHttpThread).toHaveBeenCalledTimes(1);
      expect(standings).toHaveBeenCalledWith('scjg-official');
      const [theirs] = pdfsig(writeTemp('signed-on-host.pdf', Buffer.from(await res.arrayBuffer())), nssDbWithRoot(busy.rootPem));
      expect(theirs).toMatchObject({ signatureValid: true, certificateTrusted: true });
    } finally {
      await busy.close();
    }
  });
});

describe('authority remembered between requests', () => {
  it('answers nothing to a client disabled, or for a seal revoked, since its remembered read: the read that writes the audit entry decides', async () => {
    // A window no loaded machine can close: every request after a client's first is judged on a remembered read.
    const own = await startService({ SEAL_STANDING_FRESH_MS: '60000' });
    try {
      const callerReads = vi.spyOn(own.service.db, 'get');
      const countCallerReads = () => callerReads.mock.calls.filter(([sql]) => sql.includes('token_hash')).length;
      const sealedBy = async (clientId: string) => (await own.service.db.all("SELECT seq FROM audit_log WHERE action = 'seal' AND actor = ?", [clientId])).length;

      const disabled = await own.service.clients.create('disabled after its first seals', ['seal'], ['scjg-official']);
      expect((await sealRequest(own, pdf, { sealId: 'scjg-official' }, disabled.token)).status).toBe(200);
      expect(countCallerReads()).toBe(1);
      expect((await sealRequest(own, pdf, { sealId: 'scjg-official' }, disabled.token)).status).toBe(200);
      expect(countCallerReads()).toBe(1);
      expect(await own.service.clients.disable(disabled.client.id)).toBe(true);
      const refused = await sealRequest(own, pdf, { sealId: 'scjg-official' }, disabled.token);
      expect(countCallerReads()).toBe(1);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
      expect(await sealedBy(disabled.client.id)).toBe(2);

      const user = await own.service.clients.create('its seal revoked', ['seal'], ['scjg-approval']);
      expect((await sealRequest(own, pdf, { sealId: 'scjg-approval' }, user.token)).status).toBe(200);
      const revoked = await fetch(`${own.url}/v1/seals/scjg-approval/revoke`, { method: 'POST', headers: { authorization: `Bearer ${own.token}`, 'content-type': 'application/json' }, body: '{}' });
      expect(revoked.status).toBe(200);
      const afterRevocation = await sealRequest(own, pdf, { sealId: 'scjg-approval' }, user.token);
      expect(afterRevocation.status).toBe(409);
      expect(((await afterRevocation.json()) as { type: string }).type).toBe('/problems/seal-not-active');
      expect(await sealedBy(user.client.id)).toBe(1);
      expect(await own.service.audit.verify()).toMatchObject({ ok: true });
    } finally {
      await own.close();
    }
  });
});
