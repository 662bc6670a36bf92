/**
 * A Redis that keeps its connections open but answers nothing (SIGSTOP): the public routes that
 * use it (rate limit, status cache) still answer, /readyz says degraded, and all is well again
 * once Redis answers. The rate limit counts atomically, so its keys always expire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { derToPem } from '../../src/pki/pem.js';
import { RedisProcess } from '../helpers/redis.js';
import { startService, type RunningService } from '../helpers/service.js';

let redis: RedisProcess;
let svc: RunningService;

beforeAll(async () => {
  redis = await RedisProcess.start();
  svc = await startService({ REDIS_URL: redis.url });
});
afterAll(async () => {
  redis?.resume();
  await svc?.close();
  await redis?.stop();
});

const readiness = async (): Promise<string> => ((await (await fetch(`${svc.url}/readyz`)).json()) as { status: string }).status;

async function askStatus(): Promise<Response> {
  const pem = derToPem(svc.service.devPki!.seals[0]!.chainDer[0]!);
  return fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file' }, body: pem, signal: AbortSignal.timeout(15_000) });
}

describe('a Redis that stops answering', () => {
  it('counts public requests with keys that always expire', async () => {
    for (let tries = 0; tries < 80 && (await readiness()) !== 'ready'; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await askStatus()).status).toBe(200);
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('eseal:rate:*');
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  it('never hangs a public route, shows in /readyz, and recovers', async () => {
    expect(await readiness()).toBe('ready');
    redis.pause();
    const res = await askStatus();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { certificates: Array<{ status: string }> }).certificates[0]!.status).toBe('good');
    expect(await readiness()).toBe('degraded');
    redis.resume();
    let state = 'degraded';
    for (let tries = 0; tries < 80 && state !== 'ready'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await readiness();
    }
    expect(state).toBe('ready');
  });
});
