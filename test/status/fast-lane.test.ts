import { request } from 'node:http';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derToPem } from '../../src/pki/pem.js';
import { startService, type RunningService } from '../helpers/service.js';

/** The status route is answered by node's HTTP server directly (src/http/fast-lane.ts): it must behave as an Express route would. */

const logged: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ PUBLIC_RATE_LIMIT: '0' }, undefined, { logger });
});
afterAll(async () => svc?.close());

const status = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = { 'content-type': 'application/x-pem-file' }, path = '/v1/certificates/status') =>
  fetch(`${svc.url}${path}`, { method: 'POST', headers, body });

describe('the status route on the fast lane', () => {
  it('answers with a query string too, and is logged and counted under its route', async () => {
    const pem = derToPem(svc.service.devPki!.seals[0]!.chainDer[0]!);
    const res = await status(pem, { 'content-type': 'application/x-pem-file' }, '/v1/certificates/status?from=lane');
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { certificates: Array<{ status: string }> }).certificates[0]!.status).toBe('good');
    expect(res.headers.get('x-powered-by')).toBeNull();
    const line = logged.find((l) => l.msg === 'request' && l.path === '/v1/certificates/status');
    expect(line).toMatchObject({ method: 'POST', status: 200 });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/route="\/v1\/certificates\/status",status="200"/);
  });

  it('answers problem+json for bad input: empty, unparsable, and a body over the limit (closing the connection)', async () => {
    const empty = await status('');
    expect(empty.status).toBe(400);
    expect(empty.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await empty.json()).toMatchObject({ type: '/problems/empty-body', status: 400, instance: '/v1/certificates/status' });
    const garbage = await status(new Uint8Array([0x30, 0x82, 0xff, 0xff, 0x01]));
    expect(garbage.status).toBe(422);
    expect(await garbage.json()).toMatchObject({ type: '/problems/invalid-certificate' });
    const badJson = await status('{"certificates": [', { 'content-type': 'application/json; charset=utf-8' });
    expect(await badJson.json()).toMatchObject({ type: '/problems/invalid-json', status: 400 });

    // Declared over the limit: refused before the body is read, and the connection is closed.
    const declared = await new Promise<{ code: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = request(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file', 'content-length': String(2 * 1024 * 1024) } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ code: res.statusCode!, connection: res.headers.connection, body }));
      });
      req.on('error', reject);
      req.write('x'.repeat(1000));
    });
    expect(declared.code).toBe(413);
    expect(declared.connection).toBe('close');
    expect(JSON.parse(declared.body)).toMatchObject({ type: '/problems/body-too-large' });
    // Sent without a declared length (chunked): refused once the limit is passed, before the end.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', () => undefined); // the server closes the connection behind its answer
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let sent = 0;
      const more = (): void => {
        if (req.destroyed || sent > 4 * 1024 * 1024) return reject(new Error('no answer while sending'));
        sent += chunk.length;
        if (req.write(chunk)) setImmediate(more);
        else req.once('drain', more);
      };
      more();
    });
    expect(streamed).toBe(413);
  });

  it('keeps its 413 for a client that reads it only after sending more: the refused upload is drained, not reset', async () => {
    // A client busy sending reads its answer late. Had the server cut the connection at once, its
    // kernel would answer the body still arriving with a reset, and the reset would take the unread
    // 413 with it (the client sees only ECONNRESET).
    const url = new URL(svc.url);
    const received = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
      const chunks: Buffer[] = [];
      socket.on('error', () => resolve(`error: ${Buffer.concat(chunks).toString('latin1')}`));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.pause();
      socket.write('POST /v1/certificates/status HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-pem-file\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      // Keeps sending, a chunk at a time, and reads nothing until well after the server answered.
      let sent = 0;
      const send = setInterval(() => {
        if (socket.destroyed || ++sent > 60) clearInterval(send);
        else socket.write(framed);
      }, 10);
      setTimeout(() => socket.resume(), 500);
    });
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toContain('body-too-large');
  });

  it('leaves other methods and paths to Express', async () => {
    const get = await fetch(`${svc.url}/v1/certificates/status`);
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({ type: '/problems/not-found' });
    const health = await fetch(`${svc.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('refuses an unknown token with 401 before reading the certificates', async () => {
    const res = await status('not a certificate', { 'content-type': 'application/x-pem-file', authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: '/problems/unauthenticated' });
  });
});
