import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStatusCache } from '../../src/revocation/cache.js';
import { RedisProcess } from '../helpers/redis.js';

const run = promisify(execFile);
let redis: RedisProcess;
let cache: RedisStatusCache;

beforeAll(async () => {
  redis = await RedisProcess.start();
  cache = new RedisStatusCache({ kind: 'node', url: redis.url });
  const started = Date.now();
  while ((await cache.problem()) !== null) {
    if (Date.now() - started > 10_000) throw new Error('redis did not become ready');
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await cache?.close();
  await redis?.stop();
});

const redisCli = async (...args: string[]): Promise<string> => (await run('redis-cli', ['-p', String(redis.port), ...args])).stdout.trim();

describe('the Redis rate limiter and byte store', () => {
  it('counts concurrent requests exactly once each, and every counter has its expiry', async () => {
    const counts = await Promise.all(Array.from({ length: 50 }, () => cache.increment('client:concurrent', 60_000)));
    expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.increment(`203.0.113.${i}`, 60_000)));
    const keys = (await redisCli('--scan', '--pattern', 'eseal:rate:*')).split('\n').filter(Boolean);
    expect(keys).toHaveLength(21);
    for (const key of keys) {
      const ttl = Number(await redisCli('pttl', key));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    // Every INCR ran inside the script (EVALSHA, or EVAL the first time), never on its own.
    const stats = await redisCli('info', 'commandstats');
    const calls = (command: string): number => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect(calls('incr')).toBe(70);
    expect(calls('eval') + calls('evalsha')).toBe(70);
  });

  it('a window ends: the count starts again after it', async () => {
    expect(await cache.increment('client:short', 150)).toBe(1);
    expect(await cache.increment('client:short', 150)).toBe(2);
    await new Promise((r) => setTimeout(r, 250));
    expect(await cache.increment('client:short', 150)).toBe(1);
  });

  it('keeps bytes as they are (OCSP responses) until they expire', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await cache.setBytes('ocsp-der:test', bytes, 200);
    expect((await cache.getBytes('ocsp-der:test'))?.equals(bytes)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(await cache.getBytes('ocsp-der:test')).toBeUndefined();
  });
});
