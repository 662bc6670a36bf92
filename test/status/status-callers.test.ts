import { describe, expect, it } from 'vitest';
import { StatusCallers } from '../../src/http/status-access.js';
import type { ApiClientStore } from '../../src/store/api-clients.js';

describe('who holds a status token', () => {
  it('is read once a second, so a disabled client is refused within the second', async () => {
    let reads = 0;
    let disabled = false;
    const clients = {
      findCallerByToken: async (token: string) => {
        reads++;
        return token === 'good' ? { id: 'c1', name: 'portal', roles: ['status' as const], disabled } : undefined;
      },
    } as unknown as ApiClientStore;
    let now = 1_000_000;
    const callers = new StatusCallers(clients, () => now);
    for (let i = 0; i < 5; i++) expect((await callers.find('good'))?.disabled).toBe(false);
    expect(await callers.find('unknown')).toBeUndefined();
    expect(await callers.find('unknown')).toBeUndefined();
    expect(reads).toBe(2);
    disabled = true;
    now += 999;
    expect((await callers.find('good'))?.disabled).toBe(false);
    now += 2;
    expect((await callers.find('good'))?.disabled).toBe(true);
    expect(reads).toBe(3);
  });
});
