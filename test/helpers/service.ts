import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { inject } from 'vitest';
import { openService, type Service } from '../../src/bootstrap.js';
import { limitConnections } from '../../src/http/connection-limits.js';
import { loadConfig } from '../../src/config.js';
import { testDatabaseUrl } from './postgres.js';
import { freePort } from './redis.js';
import { tempDir } from './tools.js';

export interface RunningService {
  url: string;
  /** The PostgreSQL database in the PostgreSQL pass; SQLite lives in the data dir. */
  databaseUrl: string | undefined;
  token: string;
  dataDir: string;
  service: Service;
  rootPem: string;
  close(): Promise<void>;
}

/** Without the development PKI there is neither a root nor a development token. */
function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The data dir remembers its PostgreSQL database, so a restart finds the same records. */
async function databaseFor(dataDir: string): Promise<string | undefined> {
  const marker = path.join(dataDir, 'test-database-url');
  if (existsSync(marker)) return readFileSync(marker, 'utf8');
  const url = await testDatabaseUrl();
  if (url) writeFileSync(marker, url);
  return url;
}

/**
 * Starts the service on its embedded default, on a random loopback port, in a fresh data dir.
 * A fresh data dir gets the run's development PKI (dev-pki-template.ts) unless the test asks for
 * its own (`freshPki`: another instance's CAs and keys) or for a reachable service.
 */
export async function startService(
  env: Record<string, string> = {},
  dataDir = tempDir('eseal-data'),
  options: { reachable?: boolean; logger?: Logger; clock?: () => Date; freshPki?: boolean } = {},
): Promise<RunningService> {
  const pkiDir = path.join(dataDir, 'pki');
  if (!options.reachable && !options.freshPki && env.BASE_URL === undefined && env.DEV_PKI !== 'false' && !existsSync(pkiDir)) {
    cpSync(inject('devPkiTemplate'), pkiDir, { recursive: true });
  }
  // A reachable service listens on a port chosen up front, so the URLs in its certificates work.
  const port = options.reachable ? await freePort() : 0;
  const reachableEnv = options.reachable ? { PORT: String(port), BASE_URL: `http://127.0.0.1:${port}` } : { PORT: '0' };
  const databaseUrl = env.DATABASE_URL ?? (await databaseFor(dataDir));
  // One PDF thread per test service unless a test asks for more: services share the test process
  // with another test file's, and a thread that starts costs CPU a loaded machine cannot spare
  // (the default, two, is for a machine the service has to itself).
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PDF_THREADS: '1', ...reachableEnv, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...env });
  const service = await openService({ ...config, host: '127.0.0.1' }, options.logger ?? pino({ level: 'silent' }), options.clock ? { clock: options.clock } : {});
  const server: Server = service.app.listen(port, '127.0.0.1');
  // As in production (server.ts): idle connections outlive a client's pause, so a test that waits
  // on a slow child process never reuses a connection the server has just closed.
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.headersTimeout = config.headersTimeoutMs;
  limitConnections(server, { total: config.maxConnections, perAddress: config.maxConnectionsPerAddress });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port: listening } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${listening}`,
    databaseUrl,
    token: readIfExists(path.join(dataDir, 'dev-api-token')).trim(),
    dataDir,
    service,
    rootPem: readIfExists(path.join(dataDir, 'pki', 'root.pem')),
    close: async () => {
      // At teardown every test request has been answered: connections a client keeps open (or
      // one still sending a body the server refused early) are ended rather than waited out.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await service.close();
    },
  };
}

export async function sealRequest(svc: RunningService, pdf: Buffer, query: Record<string, string>, token = svc.token): Promise<Response> {
  const qs = new URLSearchParams(query).toString();
  return fetch(`${svc.url}/v1/seal?${qs}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' },
    body: new Uint8Array(pdf),
  });
}

export async function sealOk(svc: RunningService, pdf: Buffer, query: Record<string, string>): Promise<Buffer> {
  const res = await sealRequest(svc, pdf, query);
  if (res.status !== 200) throw new Error(`seal failed: ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}
