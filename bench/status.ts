/**
 * Certificate-status benchmark: cached answers over real HTTP on loopback, measured by a load
 * generator in its own process (bench/http-load.ts), against a bare Express route served by this
 * same process in the same run (first and last, so a change in the machine's load shows). Routes: the single and batch forms of POST /v1/certificates/status,
 * anonymous and with a `status` client token, and POST /ocsp for another CA's cached response.
 * Prints one JSON object. BENCH_SECONDS (per route, default 4), BENCH_CONCURRENCY (default 32),
 * REDIS_URL (the shared cache instead of the in-process one).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import express from 'express';
import { pino } from 'pino';
import { openService, type Service } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { derToPem } from '../src/pki/pem.js';
import { buildOcspRequest } from '../src/revocation/ocsp.js';
import { freePort } from '../test/helpers/redis.js';
import { tempDir } from '../test/helpers/tools.js';
import type { LoadTarget } from './http-load.js';
import { runLoad } from './run-load.js';

async function listen(app: { listen(port: number, host?: string): Server }, port = 0): Promise<{ server: Server; url: string }> {
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 4);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
  const redis = process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {};

  // Another CA with its own responder, so /ocsp serves a cached response it signed.
  const otherPort = await freePort();
  const other: Service = await openService(loadConfig({ DATA_DIR: tempDir('bench-status-other'), PORT: String(otherPort), BASE_URL: `http://127.0.0.1:${otherPort}`, LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
  const otherServer = await listen(other.app, otherPort);

  const service = await openService(loadConfig({ DATA_DIR: tempDir('bench-status'), PORT: '0', LOG_LEVEL: 'silent', PUBLIC_RATE_LIMIT: '0', STATUS_CLIENT_RATE_LIMIT: '0', ...redis }), pino({ level: 'silent' }));
  const served = await listen(service.app);

  const bare = express();
  bare.post('/bare', express.raw({ type: () => true }), (_req, res) => {
    res.json({ ok: true });
  });
  const bareServed = await listen(bare);

  const pki = service.devPki!;
  const pem = derToPem(pki.seals[0]!.chainDer[0]!);
  const batchItems = Array.from({ length: 10 }, (_, i) => {
    const der = pki.seals[i % pki.seals.length]!.chainDer[0]!;
    return i % 2 === 0 ? derToPem(der) : der.toString('base64');
  });
  const batch = JSON.stringify({ certificates: batchItems });
  const otherSeal = other.devPki!.seals[0]!;
  const ocspRequest = buildOcspRequest(otherSeal.chainDer[0]!, other.devPki!.sealCa.certDer).der;
  const { token } = await service.clients.create('bench', ['status'], []);

  // Fill the caches: our own certificates, and the other CA's through its responder.
  const post = (body: string, type: string) => fetch(`${served.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': type }, body });
  await post(batch, 'application/json');
  const filled = (await (await post(derToPem(otherSeal.chainDer[0]!) + derToPem(other.devPki!.sealCa.certDer), 'application/x-pem-file')).json()) as { certificates: Array<{ status: string }> };
  if (filled.certificates[0]?.status !== 'good') throw new Error('the other CA’s status could not be fetched');

  const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');
  const pemHeaders = { 'content-type': 'application/x-pem-file' };
  const bareTarget: LoadTarget = { name: 'bare Express route (POST, same body)', url: `${bareServed.url}/bare`, method: 'POST', headers: pemHeaders, body: b64(pem) };
  // The bare route runs first and last, so a change in the machine's load during the run shows.
  const targets: LoadTarget[] = [
    bareTarget,
    { name: 'POST /v1/certificates/status (anonymous)', url: `${served.url}/v1/certificates/status`, method: 'POST', headers: pemHeaders, body: b64(pem) },
    { name: 'POST /v1/certificates/status (status client token)', url: `${served.url}/v1/certificates/status`, method: 'POST', headers: { ...pemHeaders, authorization: `Bearer ${token}` }, body: b64(pem) },
    { name: 'POST /v1/certificates/status (batch of 10)', url: `${served.url}/v1/certificates/status`, method: 'POST', headers: { 'content-type': 'application/json' }, body: b64(batch) },
    { name: 'POST /ocsp (cached response of another CA)', url: `${served.url}/ocsp`, method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: b64(ocspRequest) },
    bareTarget,
  ];
  const results = await runLoad({ targets, concurrency, seconds, warmupRequests: 50 });

  for (const s of [served.server, bareServed.server, otherServer.server]) {
    s.closeAllConnections();
    s.close();
  }
  await service.close();
  await other.close();
  const bareRuns = [results[0]!, results.at(-1)!] as const;
  const routes = results.slice(1, -1);
  const barePerSecond = (bareRuns[0].perSecond + bareRuns[1].perSecond) / 2;
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'status',
        loadGenerator: 'separate process (bench/http-load.ts), keep-alive connections',
        cache: process.env.REDIS_URL ? 'redis' : 'in-process',
        node: process.version,
        cpus: os.cpus().length,
        secondsPerRoute: seconds,
        bare: { first: bareRuns[0], last: bareRuns[1] },
        routes: routes.map((r) => ({ ...r, ofBare: barePerSecond > 0 ? Math.round((r.perSecond / barePerSecond) * 100) / 100 : null })),
      },
      null,
      2,
    )}\n`,
  );
  if (results.some((r) => r.errors > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
