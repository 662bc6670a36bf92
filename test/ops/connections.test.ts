/**
 * Connection edges: a declared body over the limit is refused before it is read, and one
 * address cannot hold more connections than MAX_CONNECTIONS_PER_ADDRESS.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
let port: number;

beforeAll(async () => {
  svc = await startService({ MAX_CONNECTIONS_PER_ADDRESS: '5' });
  port = Number(new URL(svc.url).port);
});
afterAll(async () => svc?.close());

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection (or `ms` pass). */
function readUntilClosed(socket: Socket, ms = 10_000): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    const timer = setTimeout(() => resolve({ data, closed: false }), ms);
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
  });
}

describe('connection edges', () => {
  it('answers 413 to a declared 3 GB body without reading it, and closes the connection', async () => {
    const socket = await open();
    const answer = readUntilClosed(socket);
    socket.write(`POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pdf\r\nContent-Length: 3000000000\r\n\r\n%PDF-1.7\n`);
    const { data, closed } = await answer;
    expect(data).toMatch(/^HTTP\/1\.1 413 /);
    expect(data).toMatch(/body-too-large/);
    expect(closed).toBe(true);
  });

  it('closes connections of one address beyond its limit, and takes new ones once some close', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, open));
    const extra = await open();
    const refused = await readUntilClosed(extra);
    expect(refused).toEqual({ data: '', closed: true });
    for (const socket of held) socket.destroy();
    // the server sees the closes a moment later (longer on a loaded machine): ask until it answers
    let status = 0;
    for (let tries = 0; tries < 50 && status !== 200; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await fetch(`${svc.url}/healthz`).then((r) => r.status, () => 0);
    }
    expect(status).toBe(200);
  });
});
