/**
 * Load benchmark of the service as it runs in production: the compiled server (`dist/`, built
 * by `npm run bench:load`) with its default process model (`config.ts`: on SQLite one HTTP process
 * per core, on PostgreSQL one per two cores; as many PDF threads in all as cores), once on SQLite
 * with the in-process cache and once on PostgreSQL + Redis that this benchmark starts itself. The load generator (bench/http-load.ts) runs in a process of its own. Per route:
 * requests/s, p50, p99, errors and the server's CPU time per request (all its processes and
 * threads; on PostgreSQL also the database server's, which shares the cores), against a bare Express route in the same run (first and last), the issue's targets
 * beside them, and the audit chain verified after each run.
 * BENCH_SECONDS (per route, default 10: long enough for the code to be compiled optimised),
 * BENCH_CONCURRENCY (requests in flight, a list: default 4,8), BENCH_ROUTES (default status,seal,verify),
 * BENCH_STORAGE (default sqlite,postgres), WORKERS.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { defaultWorkers } from '../src/config.js';
import { makePdf } from '../test/helpers/pdfs.js';
import { createDatabase, PostgresProcess } from '../test/helpers/postgres-server.js';
import { freePort, RedisProcess } from '../test/helpers/redis.js';
import { tempDir } from '../test/helpers/tools.js';
import type { LoadResult, LoadTarget } from './http-load.js';
import { runLoad } from './run-load.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Requests per connection before a route is measured: enough for its code to be compiled
 * optimised in the HTTP and PDF threads (with 20, the first route measured ran about a third
 * slower than the same route measured again).
 */
const WARMUP_PER_CONNECTION = 250;

/** What issue 16 asks of this 2-core machine, load generator included. */
const TARGETS: Record<string, { perSecond: number; p99Ms?: number }> = {
  status: { perSecond: 5000, p99Ms: 5 },
  seal: { perSecond: 1000, p99Ms: 20 },
  verify: { perSecond: 500 },
};

/** Starts the compiled server and resolves once every worker process listens. */
async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; dataDir: string }> {
  const port = await freePort();
  const dataDir = tempDir('bench-load');
  const url = `http://127.0.0.1:${port}`;
  const workers = env.WORKERS ? Number(env.WORKERS) : defaultWorkers(env.DATABASE_URL ? 'postgres' : 'sqlite');
  const child = spawn(process.execPath, [path.join(root, 'dist/server.js')], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', BASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'info', PUBLIC_RATE_LIMIT: '0', STATUS_CLIENT_RATE_LIMIT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let listening = 0;
  await new Promise<void>((resolve, reject) => {
    const onOutput = (chunk: Buffer): void => {
      listening += (chunk.toString().match(/"msg":"listening on/g) ?? []).length;
      if (listening < workers) return;
      // From here on the log (a line per request) is only drained.
      child.stdout!.off('data', onOutput);
      child.stdout!.resume();
      resolve();
    };
    child.stdout!.on('data', onOutput);
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  return { child, url, dataDir };
}

/** The server's processes: the primary and its HTTP workers. */
function serverPids(primary: number): number[] {
  const children = spawnSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return [primary, ...children];
}

const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command name (state first), or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds the processes have used so far, all their threads (user and system). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const fields of pids.map(statFields)) if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  return ticks / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far by `root` and every process below it (PostgreSQL's postmaster and its
 * backends), counting those that have ended: a backend's time passes to its parent's children's
 * time when it exits (the pool closes idle connections), so the sum never goes back.
 */
function treeCpuSeconds(root: number): number {
  const stats = new Map<number, string[]>();
  const children = new Map<number, number[]>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)) {
    const fields = statFields(pid);
    if (!fields) continue;
    stats.set(pid, fields);
    children.set(Number(fields[1]), [...(children.get(Number(fields[1])) ?? []), pid]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  let ticks = 0;
  for (const fields of tree.map((pid) => stats.get(pid))) {
    // its own user and system time, and that of its children that have ended
    if (fields) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / TICKS_PER_SECOND;
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function bareRoute(): Promise<{ server: Server; url: string }> {
  const app = express();
  app.post('/bare', express.raw({ type: () => true, limit: '8mb' }), (_req, res) => {
    res.json({ ok: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bare` };
}

/**
 * `databasePid`: the database server's process, whose CPU (all its processes) is reported per
 * request beside the service's: it shares the machine's cores.
 */
async function measure(storage: string, env: Record<string, string>, seconds: number, concurrencies: number[], routes: string[], databasePid?: number): Promise<Record<string, unknown>> {
  const { child, url, dataDir } = await startServer(env);
  const bare = await bareRoute();
  try {
    const token = readFileSync(path.join(dataDir, 'dev-api-token'), 'utf8').trim();
    const pdf = await makePdf(1);
    const sealRequest = { url: `${url}/v1/seal?sealId=xzsp-official`, method: 'POST' as const, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' }, body: pdf.toString('base64') };
    const sealed = Buffer.from(await (await fetch(sealRequest.url, { method: 'POST', headers: sealRequest.headers, body: new Uint8Array(pdf) })).arrayBuffer());
    const seal = (await (await fetch(`${url}/v1/seals/xzsp-official`, { headers: { authorization: `Bearer ${token}` } })).json()) as { certificateChain: string[] };
    const certPem = seal.certificateChain.join('');
    const bareTarget: LoadTarget = { name: 'bare', url: bare.url, method: 'POST', headers: { 'content-type': 'application/pdf' }, body: pdf.toString('base64') };
    const allRoutes: LoadTarget[] = [
      { name: 'status', url: `${url}/v1/certificates/status`, method: 'POST', headers: { 'content-type': 'application/x-pem-file' }, body: Buffer.from(certPem).toString('base64') },
      { name: 'seal', ...sealRequest },
      { name: 'verify', url: `${url}/v1/verify`, method: 'POST', headers: { 'content-type': 'application/pdf' }, body: sealed.toString('base64') },
    ];
    const widest = Math.max(...concurrencies);
    const runsOf = allRoutes.filter((t) => routes.includes(t.name)).flatMap((target) => concurrencies.map((concurrency) => ({ target, concurrency })));
    const plan = [{ target: bareTarget, concurrency: widest }, ...runsOf, { target: bareTarget, concurrency: widest }];
    const results: Array<LoadResult & { serverCpuMsPerRequest: number; databaseCpuMsPerRequest?: number }> = [];
    const perRequest = (cpu: number, result: LoadResult, concurrency: number) => Math.round(((cpu * 1000) / (result.requests + WARMUP_PER_CONNECTION * concurrency)) * 1000) / 1000;
    for (const { target, concurrency } of plan) {
      // The bare route is served by this process; the service's routes by the server's processes.
      const pids = target.name === 'bare' ? [process.pid] : serverPids(child.pid!);
      const measuresDatabase = databasePid !== undefined && target.name !== 'bare';
      const before = cpuSeconds(pids);
      const databaseBefore = measuresDatabase ? treeCpuSeconds(databasePid) : 0;
      const [result] = await runLoad({ targets: [target], concurrency, seconds, warmupRequests: WARMUP_PER_CONNECTION });
      const used = cpuSeconds(pids) - before;
      const databaseUsed = measuresDatabase ? treeCpuSeconds(databasePid) - databaseBefore : 0;
      results.push({ ...result!, serverCpuMsPerRequest: perRequest(used, result!, concurrency), ...(measuresDatabase ? { databaseCpuMsPerRequest: perRequest(databaseUsed, result!, concurrency) } : {}) });
    }
    const audit = spawnSync(process.execPath, [path.join(root, 'dist/cli/admin.js'), 'audit', 'verify'], { encoding: 'utf8', env: { ...process.env, ...env, BASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'silent' } });
    const answered = Object.fromEntries(
      results.slice(1, -1).map((r) => {
        const target = TARGETS[r.name]!;
        const met = r.errors === 0 && r.perSecond >= target.perSecond && (target.p99Ms === undefined || r.p99Ms < target.p99Ms);
        return [`${r.name} (${r.concurrency} in flight)`, { perSecond: r.perSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, requests: r.requests, serverCpuMsPerRequest: r.serverCpuMsPerRequest, ...(r.databaseCpuMsPerRequest === undefined ? {} : { databaseCpuMsPerRequest: r.databaseCpuMsPerRequest }), target, met }];
      }),
    );
    return {
      storage,
      bareExpressRoute: { first: results[0]!.perSecond, last: results.at(-1)!.perSecond },
      routes: answered,
      auditChain: audit.status === 0 ? audit.stdout.trim() : `BROKEN: ${audit.stdout.trim()} ${audit.stderr.trim()}`,
      ok: audit.status === 0 && results.every((r) => r.errors === 0),
    };
  } finally {
    bare.server.closeAllConnections();
    bare.server.close();
    await stopServer(child);
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  // Each route at a few loads: the latency targets can be met at the throughput targets only with
  // few requests in flight (by Little's law, 5,000/s with 32 in flight is 6.4 ms each on average).
  const concurrencies = (process.env.BENCH_CONCURRENCY ?? '4,8').split(',').map(Number);
  const workers: Record<string, string> = process.env.WORKERS ? { WORKERS: process.env.WORKERS } : {};
  const routes = (process.env.BENCH_ROUTES ?? 'status,seal,verify').split(',');
  const storages = (process.env.BENCH_STORAGE ?? 'sqlite,postgres').split(',');
  const runs = [];
  if (storages.includes('sqlite')) runs.push(await measure('sqlite, in-process cache', { ...workers }, seconds, concurrencies, routes));
  if (storages.includes('postgres')) {
    // Commits acknowledged only once PostgreSQL has written them to its WAL, as in production;
    // fsync stays off (a test server), where SQLite here does sync its file on every commit.
    const postgres = await PostgresProcess.start({ durableCommits: true });
    const redis = await RedisProcess.start();
    try {
      runs.push(await measure('postgresql + redis', { ...workers, DATABASE_URL: await createDatabase(postgres.url), REDIS_URL: redis.url }, seconds, concurrencies, routes, postgres.pid));
    } finally {
      await redis.stop();
      await postgres.stop();
    }
  }
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'load', loadGenerator: 'separate process (bench/http-load.ts), keep-alive sockets, one request encoded once', node: process.version, cpus: os.availableParallelism(), workers: process.env.WORKERS ?? `default: ${defaultWorkers('sqlite')} on SQLite, ${defaultWorkers('postgres')} on PostgreSQL`, postgresql: 'synchronous_commit on, fsync off (a test server)', secondsPerRoute: seconds, concurrencies, runs }, null, 2)}\n`,
  );
  if (runs.some((r) => !r.ok)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
