import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derToPem } from '../../src/pki/pem.js';
import { buildOcspRequest } from '../../src/revocation/ocsp.js';
import { RedisProcess } from '../helpers/redis.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

const run = promisify(execFile);

async function ask(svc: RunningService, token?: string, authorization?: string): Promise<Response> {
  const pem = derToPem(svc.service.devPki!.seals[0]!.chainDer[0]!);
  const headers: Record<string, string> = { 'content-type': 'application/x-pem-file' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', headers, body: pem });
  await res.clone().arrayBuffer();
  return res;
}

async function problemType(res: Response): Promise<string> {
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  return ((await res.json()) as { type: string }).type;
}

async function admin(svc: RunningService, ...args: string[]): Promise<string> {
  // vitest sets BASE_URL=/ for its own use; the CLI must not see it.
  const { BASE_URL: _vitestBase, ...env } = process.env;
  const { stdout } = await run('node_modules/.bin/tsx', ['src/cli/admin.ts', ...args], { env: { ...env, DATA_DIR: svc.dataDir, LOG_LEVEL: 'silent', ...(svc.databaseUrl ? { DATABASE_URL: svc.databaseUrl } : {}) }, encoding: 'utf8' });
  return stdout;
}

describe('status callers: anonymous per address, platform components per client', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ PUBLIC_RATE_LIMIT: '3', STATUS_CLIENT_RATE_LIMIT: '5' });
  });
  afterAll(async () => svc?.close());

  it('refuses an invalid token with 401 and a token without the status role with 403, never as anonymous', async () => {
    expect(await problemType(await ask(svc, 'esk_not-a-real-token'))).toBe('/problems/unauthenticated');
    expect((await ask(svc, undefined, 'Basic dXNlcjpwYXNz')).status).toBe(401);
    expect((await ask(svc, undefined, '')).status).toBe(401);
    const { token: sealOnly } = await svc.service.clients.create('sealing system', ['seal'], []);
    const forbidden = await ask(svc, sealOnly);
    expect(forbidden.status).toBe(403);
    expect(await problemType(forbidden)).toBe('/problems/forbidden');
    const { client, token } = await svc.service.clients.create('retired component', ['status'], []);
    await svc.service.clients.disable(client.id);
    expect((await ask(svc, token)).status).toBe(401);
  });

  it('limits anonymous callers per address, and a status client by its own budget, not the address’s', async () => {
    for (let i = 0; i < 3; i++) expect((await ask(svc)).status).toBe(200);
    const refused = await ask(svc);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await problemType(refused)).toBe('/problems/rate-limited');
    // /ocsp is a status route too: anonymous, same address, same budget
    const { der } = buildOcspRequest(svc.service.devPki!.seals[0]!.chainDer[0]!, svc.service.devPki!.sealCa.certDer);
    expect((await fetch(`${svc.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(der) })).status).toBe(429);

    // Same address, but a platform component with its token: its own budget of 5 a minute.
    const { token } = await svc.service.clients.create('licence portal', ['status'], []);
    for (let i = 0; i < 4; i++) expect((await ask(svc, token)).status).toBe(200);
    const ocsp = await fetch(`${svc.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request', authorization: `Bearer ${token}` }, body: new Uint8Array(der) });
    expect(ocsp.status).toBe(200);
    expect(ocsp.headers.get('content-type')).toBe('application/ocsp-response');
    const overBudget = await ask(svc, token);
    expect(overBudget.status).toBe(429);
    expect(((await overBudget.json()) as { detail: string }).detail).toMatch(/per client/);
    // another component has a budget of its own
    const { token: other } = await svc.service.clients.create('archive', ['status'], []);
    expect((await ask(svc, other)).status).toBe(200);
  });

  it('the admin CLI creates a client with the status role, whose token then works', async () => {
    const out = await admin(svc, 'clients', 'create', '--name', 'records office', '--roles', 'status');
    const token = out.trim().split('\n').at(-1)!;
    expect(token).toMatch(/^esk_/);
    const res = await ask(svc, token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { certificates: Array<{ status: string }> }).certificates[0]!.status).toBe('good');
    expect(await admin(svc, 'clients', 'list')).toMatch(/records office\s+roles=status/);
  });
});

describe('OCSP over GET', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ PUBLIC_RATE_LIMIT: '2' });
  });
  afterAll(async () => svc?.close());

  it('counts each request once against the anonymous limit', async () => {
    const { der } = buildOcspRequest(svc.service.devPki!.seals[0]!.chainDer[0]!, svc.service.devPki!.sealCa.certDer);
    const get = async () => (await fetch(`${svc.url}/ocsp/${encodeURIComponent(der.toString('base64'))}`)).status;
    expect([await get(), await get(), await get()]).toEqual([200, 200, 429]);
  });
});

async function untilReady(svc: RunningService): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 10_000) {
    const body = (await (await fetch(`${svc.url}/readyz`)).json()) as { checks: Record<string, string> };
    if (body.checks.statusCache === 'ok') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the status cache did not become ready');
}

describe('the per-client limit is shared by instances through Redis', () => {
  let redis: RedisProcess;
  let a: RunningService;
  let b: RunningService;
  beforeAll(async () => {
    redis = await RedisProcess.start();
    const dataDir = tempDir('status-access');
    const env = { REDIS_URL: redis.url, PUBLIC_RATE_LIMIT: '1', STATUS_CLIENT_RATE_LIMIT: '4' };
    a = await startService(env, dataDir);
    b = await startService(env, dataDir);
    for (const svc of [a, b]) await untilReady(svc); // without Redis, limits are not enforced
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('counts a client’s requests to either instance against one budget', async () => {
    const { token } = await a.service.clients.create('platform gateway', ['status'], []);
    const statuses: number[] = [];
    for (const svc of [a, b, a, b, a, b]) statuses.push((await ask(svc, token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const { stdout } = await run('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', 'eseal:rate:client:*']);
    const keys = stdout.trim().split('\n').filter(Boolean);
    expect(keys).toHaveLength(1);
    const ttl = Number((await run('redis-cli', ['-p', String(redis.port), 'pttl', keys[0]!])).stdout.trim());
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
