import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { WorkLimits } from './pdf/limits/work-budget.js';
import type { PdfLimits } from './pdf/document.js';
import { parseHostList, type RedisTarget } from './revocation/redis-target.js';
import { loadSealTypePolicies, type SealTypePolicies } from './seals/seal-type-policies.js';
import type { DatabaseTarget } from './store/open.js';
import { isKnownTimeZone } from './calendar/dates.js';

const MB = 1024 * 1024;

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(4_096),
  MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(256),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(65_000),
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(66_000),
  BASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BODY_MB: z.coerce.number().positive().max(1024).default(64),
  MAX_PDF_PAGES: z.coerce.number().int().positive().default(10_000),
  MAX_PDF_NESTING: z.coerce.number().int().min(8).max(1000).default(64),
  MAX_PDF_OBJECTS: z.coerce.number().int().positive().default(2_000_000),
  /** Password of the PKCS#12 keystores this service writes; by default kept in DATA_DIR/keystore-password. */
  KEYSTORE_PASSWORD: z.string().min(16).optional(),
  PROCESSING_TIME_MS: z.coerce.number().int().min(1).max(3_600_000).default(60_000),
  MAX_DECODED_MB: z.coerce.number().int().min(1).max(64 * 1024).default(512),
  /** Numbers, names, strings, arrays and dictionaries one request may parse out of a PDF. */
  MAX_PDF_VALUES: z.coerce.number().int().min(1_000).max(1_000_000_000).default(5_000_000),
  /** HTTP processes (node:cluster); each has its own PDF worker threads. Default: by the database (see `defaultWorkers`). */
  WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  /** PDF worker threads per HTTP process (default: as many in all as there are cores), and the jobs that may wait for one. */
  PDF_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  PDF_QUEUE: z.coerce.number().int().min(0).max(100_000).default(32),
  /**
   * How long a read of a seal's standing counts as fresh when its key signs: within it, a key held
   * in this process signs in the PDF thread; later, the HTTP thread reads the standing again and
   * signs. A sealing request's authority read is remembered for half of it (per token and seal).
   * 0: always read again, and sign on the HTTP thread.
   */
  SEAL_STANDING_FRESH_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  /**
   * A B-B sealing job for a document of at most this many bytes runs on the HTTP thread, within
   * SEAL_INLINE_MS and a small work budget, rather than in a PDF thread; past either it moves to a
   * PDF thread. 0: every job goes to a PDF thread.
   */
  SEAL_INLINE_MAX_BYTES: z.coerce.number().int().min(0).max(1024 * 1024).default(64 * 1024),
  SEAL_INLINE_MS: z.coerce.number().int().min(1).max(1000).default(20),
  /** Heap limit of each PDF worker thread: the memory part of a request's budget. */
  PDF_THREAD_HEAP_MB: z.coerce.number().int().min(32).max(64 * 1024).default(768),
  LICENSE_SECRET: z.string().min(32).optional(),
  /** Set to "false" in production to skip generating the development PKI and sample seals. */
  DEV_PKI: z.enum(['true', 'false']).default('true'),
  /** The key of the development TSA (without TSA_URL): ECDSA P-256, or SM2 (tokens signed SM2 with SM3 under the SM2 hierarchy). */
  DEV_TSA_KEY: z.enum(['ec', 'sm2']).default('ec'),
  DATABASE_URL: z.string().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** PEM bundle of trust anchors for signature validation (the dev root is added in the embedded default). */
  TRUST_ANCHORS: z.string().optional(),
  VALIDATION_POLICY: z.string().optional(),
  /** JSON mapping certificate policy OIDs to the seal types they allow; policies/seal-types.json by default. */
  SEAL_TYPE_POLICIES: z.string().optional(),
  /** RFC 3161 TSA for levels B-T and above; the embedded default uses its own development TSA. */
  TSA_URL: z.string().url().optional(),
  /** Shared certificate-status cache (redis://, rediss://); without it an in-process cache. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//).optional(),
  /** Time limit for one OCSP or CRL fetch. */
  /** Redis through Sentinel: `host:port,host:port` and the master's name. */
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_NAME: z.string().default('mymaster'),
  /** Redis Cluster: `host:port,host:port` of some of its nodes. */
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  /** Requests per minute per address to the public routes (verification, QR page, status); 0 for none. */
  PUBLIC_RATE_LIMIT: z.coerce.number().int().min(0).default(300),
  /** Status requests per minute per client token with the `status` role; 0 for none. */
  STATUS_CLIENT_RATE_LIMIT: z.coerce.number().int().min(0).default(300_000),
  /** Express's `trust proxy`: which proxies' X-Forwarded-For to believe for the client address. Off by default. */
  TRUST_PROXY: z.string().optional(),
  /** License and notice types, one folder each. */
  TEMPLATES_DIR: z.string().optional(),
  /** The issuing offices' time zone: the calendar of every date printed on a licence or notice. */
  TIME_ZONE: z.string().default('Asia/Shanghai').refine(isKnownTimeZone, 'must be a time zone name the runtime knows, such as Asia/Shanghai'),
  REVOCATION_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  TSA_USERNAME: z.string().optional(),
  TSA_PASSWORD: z.string().optional(),
});

/** Every environment variable the service reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export interface Config {
  port: number;
  /** Idle keep-alive connections live longer than common load balancers keep theirs (60 s), so the balancer closes first. */
  keepAliveTimeoutMs: number;
  /** Connections held at once, in all and per client address (behind a load balancer, one address is the balancer's). */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  headersTimeoutMs: number;
  host: string;
  /** The URL other parties reach this service at: written into certificates and QR codes. */
  baseUrl: string;
  dataDir: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  maxBodyBytes: number;
  /** How long sealing or verifying one PDF may take once it is received. */
  processingTimeMs: number;
  /** What one request may make of a PDF: decoded stream bytes (bombs, amplification) and parsed values. */
  workLimits: WorkLimits;
  /** HTTP processes. */
  workers: number;
  pdfThreads: number;
  pdfQueue: number;
  sealStandingFreshMs: number;
  /** Sealing jobs on the HTTP thread: the largest document, and the time one may take there. */
  sealInlineMaxBytes: number;
  sealInlineMs: number;
  pdfThreadHeapMb: number;
  pdfLimits: PdfLimits;
  keystorePassword: string | undefined;
  /** Key of the licenses' check codes; instances sharing a database must share it. */
  licenseSecret: string | undefined;
  devPki: boolean;
  devTsaKey: 'ec' | 'sm2';
  database: DatabaseTarget;
  trustAnchorsFile: string | undefined;
  /** The validation policy file (JSON); the default policy of `policies/` when unset. */
  validationPolicyFile: string | undefined;
  /** Which seal types a seal certificate may serve, by its certificate policies. */
  sealTypePolicies: SealTypePolicies;
  tsa: { url: string; username?: string; password?: string } | undefined;
  redis: RedisTarget | undefined;
  revocationTimeoutMs: number;
  templatesDir: string;
  /** IANA time zone whose calendar dates licences and notices carry. */
  timeZone: string;
  publicRateLimit: number;
  statusClientRateLimit: number;
  /** Express's `trust proxy` setting: false (the socket's address), a number of hops, or the proxies' addresses and subnets. */
  trustProxy: TrustProxy;
}

export type TrustProxy = boolean | number | string[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function redisTarget(e: z.infer<typeof EnvSchema>): RedisTarget | undefined {
  const chosen = [e.REDIS_URL, e.REDIS_SENTINELS, e.REDIS_CLUSTER_NODES].filter(Boolean).length;
  if (chosen > 1) throw new ConfigError('set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES');
  try {
    if (e.REDIS_URL) return { kind: 'node', url: e.REDIS_URL };
    if (e.REDIS_SENTINELS) return { kind: 'sentinel', sentinels: parseHostList(e.REDIS_SENTINELS), name: e.REDIS_SENTINEL_NAME, password: e.REDIS_PASSWORD };
    if (e.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: parseHostList(e.REDIS_CLUSTER_NODES), password: e.REDIS_PASSWORD };
  } catch (err) {
    throw new ConfigError(`Redis configuration: ${(err as Error).message}`);
  }
  return undefined;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** A proxy address, a subnet in CIDR form, or one of Express's names for address ranges. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY: `false` (default), `true` (any proxy: only when nothing else can reach the service), a hop count, or a list. */
function trustProxySetting(text: string | undefined): TrustProxy {
  const value = (text ?? 'false').trim();
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  const bad = entries.filter((e) => !isProxyEntry(e));
  if (entries.length === 0 || bad.length > 0) throw new ConfigError(`TRUST_PROXY: use false, true, a number of proxies, or addresses, subnets and loopback/linklocal/uniquelocal separated by commas (not "${bad.join(', ') || value}")`);
  return entries;
}

function databaseTarget(url: string | undefined, dataDir: string, poolSize: number): DatabaseTarget {
  if (!url) return { kind: 'sqlite', file: path.join(dataDir, 'eseal.sqlite') };
  if (url.startsWith('file:')) return { kind: 'sqlite', file: path.resolve(url.slice('file:'.length)) };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, poolSize };
  throw new ConfigError('DATABASE_URL: use file:/path/to/db.sqlite or postgres://user:password@host:port/database');
}

/**
 * HTTP processes by default. A small sealing keeps its process's HTTP thread busy
 * (runtime/inline-sealing.ts), and so does answering status requests; verification keeps the PDF
 * threads busy.
 *
 * - SQLite: one per core. Each process commits its own audit entries to the file, and two
 *   processes wait for each other's write lock only for a local commit. On the 2-core benchmark
 *   machine, in three alternating runs against one process with two PDF threads, two processes
 *   with one PDF thread each answered 7,700-12,400 status requests a second where one answered
 *   4,900-7,900, sealed 1,400-2,500 documents a second where one sealed 1,050-1,300, and verified
 *   as many or more.
 * - PostgreSQL: one per two cores. The database server shares the cores, and two processes
 *   split the sealings into smaller group commits (audit/log.ts), each a round trip the server
 *   works on: in three alternating runs two processes sealed 488-630 documents a second at 4 in
 *   flight where one sealed 596-750, at about 1.7 ms of CPU per seal (the server's share 0.64 ms)
 *   where one used about 1.25 ms (0.42).
 */
export function defaultWorkers(database: DatabaseTarget['kind'], cores = availableParallelism()): number {
  return database === 'sqlite' ? cores : Math.max(1, Math.floor(cores / 2));
}

/** PDF threads per process by default: as many in all as there are cores, at least one each. */
export function defaultPdfThreads(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.round(cores / workers));
}

/** Reads the environment into a typed config; no variable at all gives the embedded default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (as `VAR=` in an env file leaves it) means unset.
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const database = databaseTarget(e.DATABASE_URL, dataDir, e.DATABASE_POOL_SIZE);
  const workers = e.WORKERS ?? defaultWorkers(database.kind);
  let sealTypePolicies: SealTypePolicies;
  try {
    sealTypePolicies = e.SEAL_TYPE_POLICIES ? loadSealTypePolicies(path.resolve(e.SEAL_TYPE_POLICIES)) : loadSealTypePolicies();
  } catch (err) {
    throw new ConfigError(`SEAL_TYPE_POLICIES: ${(err as Error).message}`);
  }
  return {
    port: e.PORT,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
    maxConnectionsPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
    headersTimeoutMs: Math.max(e.HEADERS_TIMEOUT_MS, e.KEEP_ALIVE_TIMEOUT_MS + 1_000),
    host: e.HOST,
    baseUrl: (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    dataDir,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: Math.round(e.MAX_BODY_MB * MB),
    processingTimeMs: e.PROCESSING_TIME_MS,
    workLimits: { decodedBytes: e.MAX_DECODED_MB * MB, parsedValues: e.MAX_PDF_VALUES },
    workers,
    pdfThreads: e.PDF_THREADS ?? defaultPdfThreads(workers),
    pdfQueue: e.PDF_QUEUE,
    sealStandingFreshMs: e.SEAL_STANDING_FRESH_MS,
    sealInlineMaxBytes: e.SEAL_INLINE_MAX_BYTES,
    sealInlineMs: e.SEAL_INLINE_MS,
    pdfThreadHeapMb: e.PDF_THREAD_HEAP_MB,
    pdfLimits: { maxPages: e.MAX_PDF_PAGES, maxObjects: e.MAX_PDF_OBJECTS, maxXrefSections: 10_000, maxNesting: e.MAX_PDF_NESTING },
    keystorePassword: e.KEYSTORE_PASSWORD,
    licenseSecret: e.LICENSE_SECRET,
    devPki: e.DEV_PKI === 'true',
    devTsaKey: e.DEV_TSA_KEY,
    database,
    trustAnchorsFile: e.TRUST_ANCHORS ? path.resolve(e.TRUST_ANCHORS) : undefined,
    validationPolicyFile: e.VALIDATION_POLICY ? path.resolve(e.VALIDATION_POLICY) : undefined,
    sealTypePolicies,
    redis: redisTarget(e),
    revocationTimeoutMs: e.REVOCATION_TIMEOUT_MS,
    publicRateLimit: e.PUBLIC_RATE_LIMIT,
    statusClientRateLimit: e.STATUS_CLIENT_RATE_LIMIT,
    trustProxy: trustProxySetting(e.TRUST_PROXY),
    templatesDir: e.TEMPLATES_DIR ? path.resolve(e.TEMPLATES_DIR) : fileURLToPath(new URL('../templates', import.meta.url)),
    timeZone: e.TIME_ZONE,
    tsa: e.TSA_URL ? { url: e.TSA_URL, username: e.TSA_USERNAME, password: e.TSA_PASSWORD } : undefined,
  };
}
