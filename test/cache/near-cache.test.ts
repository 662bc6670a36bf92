import { describe, expect, it } from 'vitest';
import { MemoryStatusCache, type CachedStatus } from '../../src/revocation/cache.js';
import { NearStatusCache } from '../../src/revocation/near-cache.js';

/** A shared cache that counts the reads reaching it. */
class CountingCache extends MemoryStatusCache {
  reads = 0;
  override async get(key: string): Promise<CachedStatus | undefined> {
    this.reads++;
    return super.get(key);
  }
}

const entry = (freshUntil: number, status = 'good'): CachedStatus => ({
  evidence: { checked: true, status, source: 'ocsp', detail: status } as unknown as CachedStatus['evidence'],
  fetchedAt: 0,
  freshUntil,
});

describe('the near cache in front of the shared one', () => {
  it('answers repeated reads from memory for its TTL, then asks the shared cache again', async () => {
    const shared = new CountingCache();
    let now = Date.now();
    const near = new NearStatusCache(shared, 1000, () => now);
    await shared.set('k', entry(now + 60_000), 60_000);
    for (let i = 0; i < 5; i++) expect((await near.get('k'))?.evidence.status).toBe('good');
    expect(shared.reads).toBe(1);
    now += 1001;
    await near.get('k');
    expect(shared.reads).toBe(2);
  });

  it('never answers an entry past its own freshness', async () => {
    const shared = new CountingCache();
    let now = Date.now();
    const near = new NearStatusCache(shared, 1000, () => now);
    await near.set('k', entry(now + 100), 60_000);
    expect(await near.get('k')).toBeDefined();
    expect(shared.reads).toBe(0);
    now += 150;
    await near.get('k');
    expect(shared.reads).toBe(1);
  });

  it('drops an entry at once when any instance broadcasts its invalidation, and on delete', async () => {
    const shared = new CountingCache();
    const near = new NearStatusCache(shared, 60_000);
    const otherInstance = new NearStatusCache(shared, 60_000);
    await shared.set('k', entry(Date.now() + 60_000), 60_000);
    await near.get('k');
    await shared.set('k', entry(Date.now() + 60_000, 'revoked'), 60_000);
    expect((await near.get('k'))?.evidence.status).toBe('good'); // still the copy in memory
    await otherInstance.broadcastInvalidation('k');
    expect(await near.get('k')).toBeUndefined(); // the broadcast removed it from the shared cache too
    await near.set('k', entry(Date.now() + 60_000, 'revoked'), 60_000);
    await near.delete('k');
    expect(await near.get('k')).toBeUndefined();
  });
});
