import type { CachedStatus, StatusCache } from './cache.js';

/** How long a status read from the shared cache is answered from this process's memory. */
export const NEAR_TTL_MS = 1_000;
const MAX_NEAR_ENTRIES = 50_000;

/**
 * The shared cache (Redis) with this process's memory in front of its status entries: a status
 * read from it is answered from memory for a second (never past its own freshness), so a burst of
 * requests about one certificate costs one Redis round trip and one JSON parse a second per
 * process, not one each. A revocation this service makes is broadcast and drops the entry here at
 * once; anything else another instance stores is seen here within the second. Bytes (OCSP
 * responses), counters and writes go to the shared cache as they are.
 */
export class NearStatusCache implements StatusCache {
  private readonly near = new Map<string, { value: CachedStatus; until: number }>();

  constructor(
    private readonly shared: StatusCache,
    private readonly ttlMs = NEAR_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    shared.onInvalidation((key) => this.near.delete(key));
  }

  async get(key: string): Promise<CachedStatus | undefined> {
    const now = this.now();
    const kept = this.near.get(key);
    if (kept && kept.until > now) return kept.value;
    if (kept) this.near.delete(key);
    const value = await this.shared.get(key);
    if (value) this.keep(key, value, now);
    return value;
  }

  async set(key: string, value: CachedStatus, ttlMs: number): Promise<void> {
    await this.shared.set(key, value, ttlMs);
    this.keep(key, value, this.now());
  }

  async delete(key: string): Promise<void> {
    this.near.delete(key);
    await this.shared.delete(key);
  }

  getBytes(key: string): Promise<Buffer | undefined> {
    return this.shared.getBytes(key);
  }

  setBytes(key: string, value: Buffer, ttlMs: number): Promise<void> {
    return this.shared.setBytes(key, value, ttlMs);
  }

  async broadcastInvalidation(key: string): Promise<void> {
    this.near.delete(key);
    await this.shared.broadcastInvalidation(key);
  }

  onInvalidation(listener: (key: string) => void): void {
    this.shared.onInvalidation(listener);
  }

  increment(key: string, windowMs: number): Promise<number> {
    return this.shared.increment(key, windowMs);
  }

  problem(): Promise<string | null> {
    return this.shared.problem();
  }

  close(): Promise<void> {
    this.near.clear();
    return this.shared.close();
  }

  /** Kept until the near TTL ends or the entry stops being fresh, whichever comes first. */
  private keep(key: string, value: CachedStatus, now: number): void {
    const until = Math.min(now + this.ttlMs, value.freshUntil);
    if (until <= now) return;
    this.near.delete(key);
    this.near.set(key, { value, until });
    if (this.near.size > MAX_NEAR_ENTRIES) this.near.delete(this.near.keys().next().value!);
  }
}
