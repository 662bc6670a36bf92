import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf, qpdfRewrite } from '../helpers/pdfs.js';
import { sealOk, sealRequest, startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
let pdf: Buffer;
beforeAll(async () => {
  svc = await startService({ MAX_BODY_MB: '1' });
  pdf = await makePdf(1);
});
afterAll(async () => svc?.close());

async function expectProblem(res: Response, status: number, type: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.type).toBe(`/problems/${type}`);
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('bad sealing requests get a clear problem+json 4xx', () => {
  it('no token, unknown token', async () => {
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official' }, ''), 401, 'unauthenticated');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official' }, 'esk_not-a-real-token'), 401, 'unauthenticated');
  });

  it('unknown seal, and a seal the client may not use', async () => {
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'nope' }), 404, 'unknown-seal');
    const { token } = await svc.service.clients.create('limited', ['seal'], ['xzsp-official']);
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official' }, token), 403, 'seal-not-permitted');
    const res = await sealRequest(svc, pdf, { sealId: 'xzsp-official' }, token);
    expect(res.status).toBe(200);
    const reader = await svc.service.clients.create('reader', ['lookup'], ['xzsp-official']);
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'xzsp-official' }, reader.token), 403, 'forbidden');
  });

  it('not a PDF, truncated, encrypted, empty, wrong media type, too large', async () => {
    await expectProblem(await sealRequest(svc, Buffer.from('just some text, not a pdf'), { sealId: 'scjg-official' }), 422, 'not-a-pdf');
    const truncated = await sealRequest(svc, pdf.subarray(0, Math.floor(pdf.length * 0.6)), { sealId: 'scjg-official' });
    expect(truncated.status).toBe(422);
    expect(((await truncated.json()) as { type: string }).type).toMatch(/pdf-truncated|pdf-malformed|pdf-needs-repair/);
    const encrypted = qpdfRewrite(pdf, ['--encrypt', 'u', 'o', '256', '--']);
    await expectProblem(await sealRequest(svc, encrypted, { sealId: 'scjg-official' }), 422, 'pdf-encrypted');
    // readable without a password, but the seal's objects would have to be encrypted too
    const openEncrypted = qpdfRewrite(pdf, ['--encrypt', '', 'o', '256', '--']);
    await expectProblem(await sealRequest(svc, openEncrypted, { sealId: 'scjg-official' }), 422, 'pdf-encrypted');
    await expectProblem(await sealRequest(svc, Buffer.alloc(0), { sealId: 'scjg-official' }), 400, 'empty-body');
    const wrongType = await fetch(`${svc.url}/v1/seal?sealId=scjg-official`, {
      method: 'POST',
      headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'text/plain' },
      body: new Uint8Array(pdf),
    });
    await expectProblem(wrongType, 415, 'unsupported-media-type');
    const big = Buffer.concat([pdf, Buffer.alloc(2 * 1024 * 1024, 0x20)]);
    await expectProblem(await sealRequest(svc, big, { sealId: 'scjg-official' }), 413, 'body-too-large');
  });

  it('a content encoding, a repeated parameter, a missing Content-Type, and one in capitals', async () => {
    const post = (query: string, headers: Record<string, string>) =>
      fetch(`${svc.url}/v1/seal?${query}`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, ...headers }, body: new Uint8Array(pdf) });
    await expectProblem(await post('sealId=scjg-official', { 'content-type': 'application/pdf', 'content-encoding': 'gzip' }), 415, 'unsupported-content-encoding');
    await expectProblem(await post('sealId=scjg-official&sealId=xzsp-official', { 'content-type': 'application/pdf' }), 400, 'invalid-request');
    await expectProblem(await post('sealId=scjg-official', {}), 415, 'unsupported-media-type');
    // media types are case-insensitive and may carry parameters
    expect((await post('sealId=scjg-official', { 'content-type': 'Application/PDF; charset=binary' })).status).toBe(200);
  });

  it('refuses an upload of unannounced length before reading it when the seal is unknown', async () => {
    // The body never ends: only an answer given before reading it can arrive.
    const body = new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(new Uint8Array(pdf)) });
    const controller = new AbortController();
    const res = await fetch(`${svc.url}/v1/seal?sealId=no-such-seal`, {
      method: 'POST',
      headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' },
      body,
      duplex: 'half',
      signal: controller.signal,
    } as RequestInit & { duplex: 'half' });
    await expectProblem(res, 404, 'unknown-seal');
    controller.abort();
  });

  it('bad placement and parameters', async () => {
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', page: '9' }), 422, 'invalid-placement');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', x: '10' }), 400, 'invalid-request');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', x: '1000', y: '10' }), 422, 'invalid-placement');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', anchor: '不存在的文字' }), 422, 'anchor-not-found');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', mode: 'seam' }), 422, 'invalid-placement');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', colour: 'blue' }), 400, 'invalid-request');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', level: 'B-X' }), 400, 'invalid-request');
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'scjg-official', width: '-3' }), 400, 'invalid-request');
  });

  it('refuses a certification signature on a document that is already signed', async () => {
    const sealed = await sealOk(svc, pdf, { sealId: 'scjg-official' });
    await expectProblem(await sealRequest(svc, sealed, { sealId: 'xzsp-official', certify: '1' }), 422, 'pdf-unsupported');
  });

  it('refuses a revoked seal', async () => {
    await svc.service.db.run("UPDATE seals SET status = 'revoked' WHERE id = ?", ['xzsp-approval']);
    await expectProblem(await sealRequest(svc, pdf, { sealId: 'xzsp-approval' }), 409, 'seal-not-active');
  });

  it('answers unknown routes with problem+json 404', async () => {
    await expectProblem(await fetch(`${svc.url}/v1/nothing-here`), 404, 'not-found');
  });
});
