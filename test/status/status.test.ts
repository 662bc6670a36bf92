import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derToPem } from '../../src/pki/pem.js';
import { MemoryStatusCache } from '../../src/revocation/cache.js';
import { StatusChecker } from '../../src/revocation/status-checker.js';
import { StatusService, statusKey } from '../../src/revocation/status-service.js';
import { RedisProcess } from '../helpers/redis.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

interface StatusJson {
  certificates: Array<{ status: string; cached: boolean; stale: boolean; source?: string; nextUpdate?: string; detail: string }>;
}

async function ask(svc: RunningService, body: string): Promise<StatusJson> {
  const res = await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file' }, body });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as StatusJson;
}

async function untilReady(svc: RunningService): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 8000) {
    const body = (await (await fetch(`${svc.url}/readyz`)).json()) as { status: string };
    if (body.status === 'ready') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the service did not become ready');
}

const sealPem = (svc: RunningService, id: string): string => derToPem(svc.service.devPki!.seals.find((s) => s.id === id)!.chainDer[0]!);

describe('certificate status in the embedded default (in-process cache)', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => svc?.close());

  it('fetches once, then answers from the cache until nextUpdate', async () => {
    const first = (await ask(svc, sealPem(svc, 'scjg-official'))).certificates[0]!;
    expect(first).toMatchObject({ status: 'good', cached: false, source: 'ocsp' });
    expect(new Date(first.nextUpdate!).getTime()).toBeGreaterThan(Date.now());
    const second = (await ask(svc, sealPem(svc, 'scjg-official'))).certificates[0]!;
    expect(second).toMatchObject({ status: 'good', cached: true });
  });

  it('refuses garbage and says unknown without an issuer', async () => {
    const bad = await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', body: 'not a certificate' });
    expect(bad.status).toBe(422);
    const { issueCertificate, KEY_USAGE, validityYears } = await import('../../src/devpki/issue.js');
    const stranger = await issueCertificate({ subject: [['CN', 'Stranger']], keyKind: 'ec', ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature }, await issueCertificate({ subject: [['CN', 'Other CA']], keyKind: 'ec', ...validityYears(1), ca: {}, keyUsage: KEY_USAGE.keyCertSign }));
    expect((await ask(svc, derToPem(stranger.certDer))).certificates[0]!.status).toBe('unknown');
  });

  it('remembers failures briefly and serves a stale answer when the responder is down', async () => {
    const cache = new MemoryStatusCache();
    const dead = new StatusChecker({ timeoutMs: 300, fetchImpl: async () => { throw new Error('connection refused'); } });
    const service = new StatusService(dead, cache, { maxTtlMs: 60_000, errorTtlMs: 30_000, staleGraceMs: 60_000 });
    const seal = svc.service.devPki!.seals[0]!;
    const [cert, issuer] = [seal.chainDer[0]!, seal.chainDer[1]!];
    const failed = await service.status(cert, issuer);
    expect(failed).toMatchObject({ checked: false, cached: false });
    expect((await service.status(cert, issuer)).cached).toBe(true); // the error is remembered
    await cache.delete(`${statusKey(cert, issuer)}:error`);
    await cache.set(statusKey(cert, issuer), { evidence: { checked: true, status: 'good', source: 'ocsp', detail: 'earlier answer' }, fetchedAt: Date.now() - 120_000, freshUntil: Date.now() - 1000 }, 60_000);
    const stale = await service.status(cert, issuer);
    expect(stale).toMatchObject({ status: 'good', stale: true, cached: true });
  });

  it('answers concurrent misses for one certificate with one fetch', async () => {
    let fetches = 0;
    const base = svc.service.devPki!;
    const counting = new StatusChecker({ localOcsp: () => { fetches++; return undefined; }, fetchImpl: async () => { throw new Error('offline'); }, timeoutMs: 200 });
    const service = new StatusService(counting, new MemoryStatusCache());
    await Promise.all(Array.from({ length: 10 }, () => service.status(base.seals[1]!.chainDer[0]!, base.sealCa.certDer)));
    expect(fetches).toBe(1);
  });
});

describe('certificate status shared through Redis by two instances', () => {
  let redis: RedisProcess;
  let a: RunningService;
  let b: RunningService;
  beforeAll(async () => {
    redis = await RedisProcess.start();
    const dataDir = tempDir('shared');
    // These tests poll the public status route; the rate limit is tested on its own.
    a = await startService({ REDIS_URL: redis.url, PUBLIC_RATE_LIMIT: '0' }, dataDir);
    b = await startService({ REDIS_URL: redis.url, PUBLIC_RATE_LIMIT: '0' }, dataDir);
    for (const svc of [a, b]) await untilReady(svc);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('an answer fetched by one instance is served from the cache by the other', async () => {
    expect((await ask(a, sealPem(a, 'xzsp-official'))).certificates[0]).toMatchObject({ status: 'good', cached: false });
    expect((await ask(b, sealPem(b, 'xzsp-official'))).certificates[0]).toMatchObject({ status: 'good', cached: true });
  });

  it('a revocation on one instance is seen by the other within a second', async () => {
    expect((await ask(b, sealPem(b, 'xzsp-approval'))).certificates[0]!.status).toBe('good');
    expect((await ask(b, sealPem(b, 'xzsp-approval'))).certificates[0]!.cached).toBe(true);
    const revoke = await fetch(`${a.url}/v1/seals/xzsp-approval/revoke`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: '{"reason":4}' });
    expect(revoke.status).toBe(200);
    const started = Date.now();
    let seen = '';
    while (Date.now() - started < 1000 && seen !== 'revoked') seen = (await ask(b, sealPem(b, 'xzsp-approval'))).certificates[0]!.status;
    expect(seen).toBe('revoked');
    const detail = (await (await fetch(`${b.url}/v1/certificates/status`, { method: 'POST', body: sealPem(b, 'xzsp-approval') })).json()) as { certificates: Array<{ reason?: number; revokedAt?: string }> };
    expect(detail.certificates[0]).toMatchObject({ reason: 4 });
    expect(new Date(detail.certificates[0]!.revokedAt!).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('keeps answering while Redis is down, says so in /readyz, and recovers', async () => {
    expect(((await (await fetch(`${a.url}/readyz`)).json()) as { checks: Record<string, string> }).checks.statusCache).toBe('ok');
    await redis.stop();
    const during = (await ask(a, sealPem(a, 'scjg-approval'))).certificates[0]!;
    expect(during).toMatchObject({ status: 'good', cached: false });
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('degraded');
    await redis.startAgain();
    const started = Date.now();
    let state = 'degraded';
    while (Date.now() - started < 8000 && state !== 'ready') {
      await new Promise((r) => setTimeout(r, 200));
      state = ((await (await fetch(`${a.url}/readyz`)).json()) as { status: string }).status;
    }
    expect(state).toBe('ready');
    await ask(a, sealPem(a, 'scjg-approval'));
    expect((await ask(a, sealPem(a, 'scjg-approval'))).certificates[0]!.cached).toBe(true);
  });
});
