/**
 * A sealing request's authority read, remembered per token and seal for a few milliseconds: only
 * reads that found both the client and the seal, never past their window, and not at all with a
 * window of 0.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { SealCallers } from '../../src/sealing/seal-callers.js';
import { ApiClientStore } from '../../src/store/api-clients.js';
import type { Db } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/open.js';
import { tempDir } from '../helpers/tools.js';

let db: Db;
let token: string;
let clientId: string;

function insertSeal(id: string): Promise<unknown> {
  return db.run(
    `INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at)
     VALUES (?, 'org', 'uscc', 'official', 'name', 42, ?, '[]', '{}', '2020-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z', 'active', '2020-01-01T00:00:00.000Z')`,
    [id, Buffer.from('png')],
  );
}

beforeAll(async () => {
  db = await openDatabase({ kind: 'sqlite', file: path.join(tempDir('seal-callers'), 'db.sqlite') });
  await insertSeal('known');
  const created = await new ApiClientStore(db, new AuditLog(db)).create('sealer', ['seal'], ['known']);
  token = created.token;
  clientId = created.client.id;
});
afterAll(async () => db?.close());

/** A clock the test moves, and a count of the authority reads that reached the database. */
function setUp(rememberMs: number): { callers: SealCallers; clock: { now: number }; reads: () => number } {
  const clock = { now: 1_000_000 };
  const spy = vi.spyOn(db, 'get');
  spy.mockClear();
  return { callers: new SealCallers(db, rememberMs, () => clock.now), clock, reads: () => spy.mock.calls.filter(([sql]) => sql.includes('token_hash')).length };
}

describe('sealing authority reads', () => {
  it('remembers a read that found client and seal for its window, with the time it was made, and reads again after', async () => {
    const { callers, clock, reads } = setUp(25);
    const first = await callers.read(token, 'known');
    expect(first).toMatchObject({ client: { id: clientId, disabled: false }, permitted: true, standing: { id: 'known', status: 'active' }, readAt: 1_000_000 });
    clock.now += 24;
    expect(await callers.read(token, 'known')).toBe(first);
    expect(reads()).toBe(1);
    clock.now += 1;
    expect(await callers.read(token, 'known')).toMatchObject({ readAt: 1_000_025 });
    expect(reads()).toBe(2);
  });

  it('reads every time with a window of 0', async () => {
    const { callers, reads } = setUp(0);
    await callers.read(token, 'known');
    await callers.read(token, 'known');
    expect(reads()).toBe(2);
  });

  it('does not remember a seal that was not there, nor a token of no client', async () => {
    const { callers, reads } = setUp(1000);
    expect((await callers.read(token, 'later'))?.standing).toBeUndefined();
    await insertSeal('later');
    expect((await callers.read(token, 'later'))?.standing).toMatchObject({ id: 'later', status: 'active' });
    expect(await callers.read('esk_unknown', 'known')).toBeUndefined();
    expect(await callers.read('esk_unknown', 'known')).toBeUndefined();
    expect(reads()).toBe(4);
  });

  it('keeps each pair of token and seal apart', async () => {
    const { callers, reads } = setUp(1000);
    expect((await callers.read(token, 'known'))?.standing?.id).toBe('known');
    expect((await callers.read(token, 'later'))?.standing?.id).toBe('later');
    expect((await callers.read(token, 'known'))?.standing?.id).toBe('known');
    expect(reads()).toBe(2);
  });
});
