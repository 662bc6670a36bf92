/**
 * Authority is what it is when the document is signed, not when its upload began: a seal
 * revoked, or a client disabled, while the body is still arriving gets nothing sealed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../helpers/pdfs.js';
import { startService, type RunningService } from '../helpers/service.js';

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
