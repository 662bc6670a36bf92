import { Cluster, Redis } from 'ioredis';
import type { RevocationEvidence } from '../validation/report.js';

/** A status answer as cached: the evidence, and until when it may be served. */
export interface CachedStatus {
  evidence: RevocationEvidence;
  fetchedAt: number;
  /** Fresh until then (nextUpdate, bounded); after it, served only as stale within the grace. */
  freshUntil: number;
}

export interface StatusCache {
  get(key: string): Promise<CachedStatus | undefined>;
  set(key: string, value: CachedStatus, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Tells every instance to forget this key at once. */
  broadcastInvalidation(key: string): Promise<void>;
  onInvalidation(listener: (key: string) => void): void;
  /** Counts a hit in a fixed window (for rate limits shared by every instance); returns the count. */
  increment(key: string, windowMs: number): Promise<number>;
  /** Null when healthy, else why not. */
  problem(): string | null;
  close(): Promise<void>;
}

/** The embedded default: an in-process LRU with expiry. */
export class MemoryStatusCache implements StatusCache {
  private readonly entries = new Map<string, { value: CachedStatus; expiresAt: number }>();
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

  problem(): string | null {
    return null;
  }

  async close(): Promise<void> {}
}

const CHANNEL = 'eseal:status:invalidate';
const PREFIX = 'eseal:status:';

/** Where Redis is: one node by URL, a Sentinel group, or a Cluster. */
export type RedisTarget =
  | { kind: 'node'; url: string }
  | { kind: 'sentinel'; sentinels: Array<{ host: string; port: number }>; name: string; password?: string }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; password?: string };

/** Parses `host:port,host:port`. */
export function parseHostList(text: string): Array<{ host: string; port: number }> {
  return text.split(',').map((item) => {
    const match = /^\s*([^:\s]+):(\d{1,5})\s*$/.exec(item);
    if (!match) throw new Error(`not host:port: "${item}"`);
    return { host: match[1]!, port: Number(match[2]) };
  });
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

  constructor(target: RedisTarget) {
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
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
            redisOptions: { maxRetriesPerRequest: 0, password: target.password },
          });
      }
    };
    this.client = connect(false);
    this.subscriber = connect(true);
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

  async get(key: string): Promise<CachedStatus | undefined> {
    try {
      const raw = await this.client.get(PREFIX + key);
      return raw ? (JSON.parse(raw) as CachedStatus) : undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
      return undefined;
    }
  }

  async set(key: string, value: CachedStatus, ttlMs: number): Promise<void> {
    try {
      await this.client.set(PREFIX + key, JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (err) {
      this.lastError = (err as Error).message;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.del(PREFIX + key);
    } catch (err) {
      this.lastError = (err as Error).message;
    }
  }

  async broadcastInvalidation(key: string): Promise<void> {
    await this.delete(key);
    try {
      await this.client.publish(CHANNEL, key);
    } catch (err) {
      this.lastError = (err as Error).message;
    }
    for (const listener of this.listeners) listener(key);
  }

  onInvalidation(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  async increment(key: string, windowMs: number): Promise<number> {
    try {
      const count = await this.client.incr(`eseal:rate:${key}`);
      if (count === 1) await this.client.pexpire(`eseal:rate:${key}`, windowMs);
      return count;
    } catch (err) {
      this.lastError = (err as Error).message;
      return 0; // without Redis, limits are not enforced rather than refusing everyone
    }
  }

  problem(): string | null {
    if (this.client.status !== 'ready') return `redis is ${this.client.status}${this.lastError ? `: ${this.lastError}` : ''}`;
    return null;
  }

  async close(): Promise<void> {
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}
