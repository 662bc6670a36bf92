/**
 * Load test on loopback: concurrent clients seal, verify and ask certificate status against one
 * service instance for a fixed time each. Prints one JSON object (requests, errors, rate,
 * latency percentiles). The load generator runs in the same process, so figures are a floor.
 */
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { pino } from 'pino';
import { openService } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { derToPem } from '../src/pki/pem.js';
import { makePdf } from '../test/helpers/pdfs.js';
import { tempDir } from '../test/helpers/tools.js';

async function drive(name: string, concurrency: number, durationMs: number, request: () => Promise<Response>): Promise<Record<string, number>> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const res = await request();
          await res.arrayBuffer();
          if (!res.ok) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const pick = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 100) / 100;
  process.stderr.write(`  ${name}: ${latencies.length} requests, ${errors} errors\n`);
  return { concurrency, requests: latencies.length, errors, perSecond: Math.round((latencies.length / elapsed) * 10000) / 10, p50Ms: pick(0.5), p99Ms: pick(0.99) };
}

async function main(): Promise<void> {
  const seconds = Number(process.env.LOAD_SECONDS ?? 5);
  // DATABASE_URL and REDIS_URL, when set, put the run on PostgreSQL and Redis (use an empty database).
  const stores = Object.fromEntries(['DATABASE_URL', 'REDIS_URL'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
  const config = loadConfig({ DATA_DIR: tempDir('load'), PORT: '0', LOG_LEVEL: 'silent', PUBLIC_RATE_LIMIT: '0', ...stores });
  const service = await openService(config, pino({ level: 'silent' }));
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = service.newDevToken!; // a fresh data directory: the development client was just created
  const pdf = new Uint8Array(await makePdf(2));
  const sealOnce = () => fetch(`${url}/v1/seal?sealId=xzsp-official`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' }, body: pdf });
  const sealed = new Uint8Array(await (await sealOnce()).arrayBuffer());
  const pem = derToPem(service.devPki!.seals[0]!.chainDer[0]!);
  const results = {
    seal: await drive('POST /v1/seal', 8, seconds * 1000, sealOnce),
    verify: await drive('POST /v1/verify', 8, seconds * 1000, () => fetch(`${url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: sealed })),
    status: await drive('POST /v1/certificates/status', 16, seconds * 1000, () => fetch(`${url}/v1/certificates/status`, { method: 'POST', body: pem })),
  };
  server.close();
  await service.close();
  process.stdout.write(`${JSON.stringify({ benchmark: 'load', node: process.version, cpus: os.cpus().length, secondsPerRoute: seconds, database: config.database.kind, statusCache: config.redis ? 'redis' : 'memory', results }, null, 2)}\n`);
  if (Object.values(results).some((r) => (r.errors ?? 0) > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
