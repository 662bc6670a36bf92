import { Cluster, Redis } from 'ioredis';
import type { RevocationEvidence } from '../contracts/revocation.js';
import type { RedisTarget } from './redis-target.js';

/** A status answer as cached: the evidence, and until when it may be served. */
export interface CachedStatus {
  evidence: RevocationEvidence;
  fetchedAt: number;
  /** Fresh until then (nextUpdate, bounded); after it, served only as stale within the grace. */
  freshUntil: number;
  /** The status fields of the answer served from the cache while fresh, serialised once when stored. */
  answer?: string;
}

export interface StatusCache {
  get(key: string): Promise<CachedStatus | undefined>;
  set(key: string, value: CachedStatus, ttlMs: number): Promise<void>;
  /** Forgets a key, whether it holds a status or bytes. */
  delete(key: string): Promise<void>;
  /** Bytes stored as they are (OCSP responses), expiring after `ttlMs`. */
  getBytes(key: string): Promise<Buffer | undefined>;
  setBytes(key: string, value: Buffer, ttlMs: number): Promise<void>;
  /** Tells every instance to forget this key at once. */
  broadcastInvalidation(key: string): Promise<void>;
  onInvalidation(listener: (key: string) => void): void;
  /** Counts a hit in a fixed window (for rate limits shared by every instance); returns the count. */
  increment(key: string, windowMs: number): Promise<number>;
  /** Null when healthy, else why not. */
  problem(): Promise<string | null>;
  close(): Promise<void>;
}

/** The embedded default: an in-process LRU with expiry. */
export class MemoryStatusCache implements StatusCache {
  private readonly entries = new Map<string, { value: CachedStatus; expiresAt: number }>();
  private readonly bytes = new Map<string, { value: Buffer; expiresAt: number }>();
  private readonly listeners: Array<(key: string) => void> = [];

  constructor(private readonly maxEntries = 100_000) {}

  async get(key: string): Promise<CachedStatus | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key); // refresh its place in the LRU order
    this.entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: CachedStatus, ttlMs: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
    this.bytes.delete(key);
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    const entry = this.bytes.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.bytes.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async setBytes(key: string, value: Buffer, ttlMs: number): Promise<void> {
    this.bytes.delete(key);
    this.bytes.set(key, { value, expiresAt: Date.now() + ttlMs });
    while (this.bytes.size > this.maxEntries) this.bytes.delete(this.bytes.keys().next().value!);
  }

  async broadcastInvalidation(key: string): Promise<void> {
    this.entries.delete(key);
    for (const listener of this.listeners) listener(key);
  }

  onInvalidation(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async increment(key: string, windowMs: number): Promise<number> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
      if (this.windows.size > this.maxEntries) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    }
    return ++window.count;
  }

  async problem(): Promise<string | null> {
    return null;
  }

  async close(): Promise<void> {}
}

const CHANNEL = 'eseal:status:invalidate';
const PREFIX = 'eseal:status:';

/** Where Redis is: one node by URL, a Sentinel group, or a Cluster. */
const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** INCR, and PEXPIRE with the first count, in one script: atomic, so no counter is ever left without its expiry. */
const INCREMENT_SCRIPT = "local c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return c";

interface IncrementCommand {
  esealIncrement(key: string, windowMs: string): Promise<number>;
}

/**
 * The shared cache: Redis through ioredis (single node, Sentinel or Cluster), with a pub/sub
 * channel for invalidations. Commands fail fast while Redis is away (no offline queue), so
 * callers fall back to fetching; the clients reconnect by themselves.
 */
export class RedisStatusCache implements StatusCache {
  private readonly client: Redis | Cluster;
  private readonly subscriber: Redis | Cluster;
  private readonly listeners: Array<(key: string) => void> = [];
  private lastError: string | null = null;
  private failing = false;

  constructor(target: RedisTarget) {
    // A Redis that keeps its connections open but stops answering (paused, swapping, overloaded)
    // must not hang the routes that use it: every command gives up after a second.
    const commandTimeout = REDIS_COMMAND_TIMEOUT_MS;
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout, connectTimeout: 5_000, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
    const connect = (offlineQueue: boolean): Redis | Cluster => {
      switch (target.kind) {
        case 'node':
          return new Redis(target.url, { ...options, enableOfflineQueue: offlineQueue });
        case 'sentinel':
          return new Redis({ ...options, enableOfflineQueue: offlineQueue, sentinels: target.sentinels, name: target.name, password: target.password });
        case 'cluster':
          return new Cluster(target.nodes, {
            enableOfflineQueue: offlineQueue,
            clusterRetryStrategy: (times: number) => Math.min(times * 200, 2000),
            redisOptions: { maxRetriesPerRequest: 0, commandTimeout, password: target.password },
          });
      }
    };
    this.client = connect(false);
    this.subscriber = connect(true);
    // Sent as EVALSHA (ioredis loads the script when a server does not know it yet).
    this.client.defineCommand('esealIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
    for (const conn of [this.client, this.subscriber]) {
      conn.on('error', (err: Error) => {
        this.lastError = err.message;
      });
      conn.on('ready', () => {
        this.lastError = null;
      });
    }
    void this.subscriber.subscribe(CHANNEL).catch(() => undefined);
    this.subscriber.on('message', (_channel: string, key: string) => {
      for (const listener of this.listeners) listener(key);
    });
  }

  /** Runs a command; a failure (timeout included) is remembered until a command succeeds, and answered with `fallback`. */
  private async command<T, F>(run: () => Promise<T>, fallback: F): Promise<T | F> {
    try {
      const value = await run();
      this.failing = false;
      return value;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.failing = true;
      return fallback;
    }
  }

  async get(key: string): Promise<CachedStatus | undefined> {
    const raw = await this.command(() => this.client.get(PREFIX + key), null);
    return raw ? (JSON.parse(raw) as CachedStatus) : undefined;
  }

  async set(key: string, value: CachedStatus, ttlMs: number): Promise<void> {
    await this.command(() => this.client.set(PREFIX + key, JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs))), undefined);
  }

  async delete(key: string): Promise<void> {
    await this.command(() => this.client.del(PREFIX + key), undefined);
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    return (await this.command(() => this.client.getBuffer(PREFIX + key), null)) ?? undefined;
  }

  async setBytes(key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.command(() => this.client.set(PREFIX + key, value, 'PX', Math.max(1, Math.round(ttlMs))), undefined);
  }

  async broadcastInvalidation(key: string): Promise<void> {
    await this.delete(key);
    await this.command(() => this.client.publish(CHANNEL, key), undefined);
    for (const listener of this.listeners) listener(key);
  }

  onInvalidation(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  /** Counts in one atomic step (a script): the window's expiry is set with the first count, so no key is ever left without one. */
  async increment(key: string, windowMs: number): Promise<number> {
    // without Redis, limits are not enforced rather than refusing everyone
    const count = await this.command(() => (this.client as unknown as IncrementCommand).esealIncrement(`eseal:rate:${key}`, String(windowMs)), 0);
    return Number(count);
  }

  /** Asks Redis (bounded by the command timeout): a server that holds its connections but does not answer is a problem too. */
  async problem(): Promise<string | null> {
    if (this.client.status !== 'ready') return `redis is ${this.client.status}${this.lastError ? `: ${this.lastError}` : ''}`;
    await this.command(() => this.client.ping(), undefined);
    if (this.failing) return `redis is not answering: ${this.lastError ?? 'commands fail'}`;
    return null;
  }

  async close(): Promise<void> {
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}
