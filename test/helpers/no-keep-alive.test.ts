import { spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

/** A server that counts the connections opened to it and records each request's headers. */
async function countingServer(keepAliveTimeoutMs: number): Promise<{ url: string; connections: () => number; requests: IncomingHttpHeaders[]; server: Server }> {
  const requests: IncomingHttpHeaders[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    requests.push(req.headers);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, connections: () => connections, requests, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

describe('the test harness (test/helpers/no-keep-alive.ts)', () => {
  it('opens one connection per fetch and asks the server to close it, even where the server would keep it 65 s', async () => {
    const target = await countingServer(65_000);
    servers.push(target.server);
    for (let i = 0; i < 5; i++) expect(await (await fetch(target.url)).text()).toBe('ok');
    const concurrent = await Promise.all(Array.from({ length: 5 }, async () => (await fetch(target.url, { method: 'POST', body: 'x' })).text()));
    expect(concurrent).toEqual(Array(5).fill('ok'));
    expect(target.connections()).toBe(10);
    expect(target.requests.map((h) => h.connection)).toEqual(Array(10).fill('close'));
  });

  it('sends each request after a blocking call on a new connection, which the server closing its idle ones does not reset', async () => {
    const target = await countingServer(65_000);
    servers.push(target.server);
    // The server's keep-alive timer expires during the blocking call and runs right after it, as
    // on a loaded machine: a reused idle connection is closed under the request about half the
    // time, so eight rounds without the harness almost surely see one reset.
    for (let round = 0; round < 8; round++) {
      expect(await (await fetch(target.url)).text()).toBe('ok');
      setTimeout(() => target.server.closeIdleConnections(), 20);
      expect(spawnSync('sleep', ['0.15']).status).toBe(0);
      expect(await (await fetch(target.url, { method: 'POST', body: 'after the pause' })).text()).toBe('ok');
    }
    expect(target.connections()).toBe(16);
  });
});
