/**
 * Certificate-status benchmark: cached answers per second and latency over real HTTP on
 * loopback, through POST /v1/certificates/status and through POST /ocsp. Prints one JSON object.
 */
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { pino } from 'pino';
import { openService } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { derToPem } from '../src/pki/pem.js';
import { buildOcspRequest } from '../src/revocation/ocsp.js';
import { tempDir } from '../test/helpers/tools.js';

async function load(label: string, concurrency: number, durationMs: number, request: () => Promise<Response>): Promise<Record<string, number>> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const res = await request();
      await res.arrayBuffer();
      if (!res.ok) errors++;
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  process.stderr.write(`  ${label}: ${latencies.length} requests\n`);
  const pick = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 100) / 100;
  return { requests: latencies.length, errors, perSecond: Math.round((latencies.length / elapsed) * 1000), medianMs: pick(0.5), p99Ms: pick(0.99) };
}

async function main(): Promise<void> {
  const service = await openService(loadConfig({ DATA_DIR: tempDir('bench-status'), PORT: '0', LOG_LEVEL: 'silent', PUBLIC_RATE_LIMIT: '0', ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) }), pino({ level: 'silent' }));
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pki = service.devPki!;
  const pem = derToPem(pki.seals[0]!.chainDer[0]!);
  const { der } = buildOcspRequest(pki.seals[0]!.chainDer[0]!, pki.sealCa.certDer);
  await fetch(`${url}/v1/certificates/status`, { method: 'POST', body: pem }); // fill the cache
  const results = {
    statusApi: await load('POST /v1/certificates/status', 16, 4000, () => fetch(`${url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file' }, body: pem })),
    ocsp: await load('POST /ocsp', 16, 4000, () => fetch(`${url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(der) })),
  };
  server.close();
  await service.close();
  process.stdout.write(`${JSON.stringify({ benchmark: 'status', cache: process.env.REDIS_URL ? 'redis' : 'in-process', node: process.version, cpus: os.cpus().length, results }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
