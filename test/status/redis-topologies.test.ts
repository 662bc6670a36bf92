import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { derToPem } from '../../src/pki/pem.js';
import { freePort, RedisProcess } from '../helpers/redis.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

const run = promisify(execFile);
const processes: RedisProcess[] = [];
const services: RunningService[] = [];
afterAll(async () => {
  for (const s of services) await s.close();
  for (const p of processes) await p.stop();
});

async function untilReady(svc: RunningService): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 15_000) {
    const body = (await (await fetch(`${svc.url}/readyz`)).json()) as { status: string };
    if (body.status === 'ready') return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error('the service did not become ready');
}

async function sharedCacheWorks(env: Record<string, string>): Promise<void> {
  const dataDir = tempDir('topology');
  const a = await startService(env, dataDir);
  const b = await startService(env, dataDir);
  services.push(a, b);
  await untilReady(a);
  await untilReady(b);
  const pem = derToPem(a.service.devPki!.seals[0]!.chainDer[0]!);
  const ask = async (svc: RunningService) => ((await (await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', body: pem })).json()) as { certificates: Array<{ status: string; cached: boolean }> }).certificates[0]!;
  expect(await ask(a)).toMatchObject({ status: 'good', cached: false });
  expect(await ask(b)).toMatchObject({ status: 'good', cached: true });
}

describe('Redis topologies', () => {
  it('works through Sentinel', async () => {
    const master = await RedisProcess.start();
    processes.push(master);
    const dir = tempDir('sentinel');
    const port = await freePort();
    const conf = path.join(dir, 'sentinel.conf');
    writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\n`);
    const sentinel = await RedisProcess.start([conf, '--sentinel'], dir, port);
    processes.push(sentinel);
    await sharedCacheWorks({ REDIS_SENTINELS: `127.0.0.1:${port}`, REDIS_SENTINEL_NAME: 'mymaster' });
  });

  it('works on a Cluster', async () => {
    const dir = tempDir('cluster');
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const node = await RedisProcess.start(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`], dir);
      nodes.push(node);
      processes.push(node);
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const started = Date.now();
    for (;;) {
      const { stdout } = await run('redis-cli', ['-p', String(nodes[0]!.port), 'cluster', 'info']);
      if (stdout.includes('cluster_state:ok')) break;
      if (Date.now() - started > 15_000) throw new Error('the cluster did not form');
      await new Promise((r) => setTimeout(r, 200));
    }
    await sharedCacheWorks({ REDIS_CLUSTER_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(',') });
  });

  it('refuses two Redis settings at once', async () => {
    await expect(startService({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: '127.0.0.1:2' })).rejects.toThrow(/only one of/);
  });
});
