/**
 * One lock per purpose: the audit chain, each serial counter and each migration run have a lock
 * of their own. On PostgreSQL a transaction holding one of them blocks only transactions that
 * want the same one; SQLite serialises every writer anyway, so the blocking checks run on
 * PostgreSQL only. Every check here is about order, never about how long something took.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_CHAIN_LOCK, AuditLog } from '../../src/audit/log.js';
import { nextSerial, serialCounterLock } from '../../src/licenses/numbering.js';

import { ApiClientStore } from '../../src/store/api-clients.js';
import type { Db } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/open.js';
import { onPostgres, testDatabaseUrl } from '../helpers/postgres.js';

const ISSUER = '11370500MB0100002L';
/** The next serial of one counter, as issuance draws it (no licences issued yet). */
const allocateSerial = (db: Db, type: string, period: string): Promise<number> => nextSerial(db, ISSUER, type, period, { pattern: `X${period}%`, at: 6 });

/** Holds `name` in a transaction of `db` until `release` is called. */
async function holdLock(db: Db, name: string): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const taken = new Promise<void>((resolve) => (held = resolve));
  const done = db.transaction(async (tx) => {
    await tx.lock(name);
    held();
    await released;
  });
  await Promise.race([taken, done]);
  return { release, done };
}

describe.skipIf(!onPostgres())('locks per purpose on PostgreSQL', () => {
  // Two pools on one database, as two instances have.
  let first: Db;
  let second: Db;
  let observer: pg.Client;

  beforeEach(async () => {
    const url = (await testDatabaseUrl())!;
    first = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
    second = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
    observer = new pg.Client({ connectionString: url });
    await observer.connect();
  });
  afterEach(async () => {
    await observer?.end();
    await first?.close();
    await second?.close();
  });

  /** Waits until `count` sessions of this database wait for an advisory lock (generously: the machine may be loaded). */
  async function waitForLockWaiters(count: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await observer.query<{ n: string }>(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
      );
      if (Number(rows[0]!.n) === count) return;
      if (Date.now() > deadline) throw new Error(`expected ${count} session(s) waiting for an advisory lock, saw ${rows[0]!.n}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('lets serial numbers and other writes through while the audit chain is locked, and holds back only the audit append', async () => {
    const held = await holdLock(first, AUDIT_CHAIN_LOCK);
    const order: string[] = [];
    const append = new AuditLog(second).append({ actor: 'test', action: 'seal', subject: 'waits for the chain' }).then(() => order.push('audit append'));
    await waitForLockWaiters(1); // the append waits for the chain's lock...

    // ...while transactions of other purposes, and plain writes, complete
    const serial = await allocateSerial(second, 'acceptance-notice', '2026');
    order.push('serial');
    await new ApiClientStore(second, new AuditLog(second)).create('while the chain is locked', ['seal'], []);
    order.push('client');
    await second.run("INSERT INTO license_lookups (client_id, holder_code, purpose, results, looked_up_at) VALUES ('c', 'h', 'p', 0, 'now')");
    order.push('write');
    expect(serial).toBe(1);
    expect(order).toEqual(['serial', 'client', 'write']);

    held.release();
    await held.done;
    await append;
    expect(order).toEqual(['serial', 'client', 'write', 'audit append']);
    expect(await new AuditLog(first).verify()).toEqual({ ok: true, entries: 1 });
  });

  it('disables a client under the audit chain lock, recording it there, so a guarded sealing entry sees it either before or not at all', async () => {
    const clients = new ApiClientStore(second, new AuditLog(second));
    const { client } = await clients.create('to be disabled', ['seal'], []);
    const held = await holdLock(first, AUDIT_CHAIN_LOCK);
    let disabled: boolean | undefined;
    const disabling = clients.disable(client.id, 'test').then((result) => (disabled = result));
    await waitForLockWaiters(1);
    expect(disabled).toBeUndefined();
    expect((await second.get<{ disabled: number }>('SELECT disabled FROM api_clients WHERE id = ?', [client.id]))!.disabled).toBe(0);

    held.release();
    await held.done;
    expect(await disabling).toBe(true);
    expect(await clients.disable(client.id, 'test')).toBe(false);
    expect(await second.all("SELECT actor, subject FROM audit_log WHERE action = 'client.disable'")).toEqual([{ actor: 'test', subject: client.id }]);
    expect(await new AuditLog(first).verify()).toMatchObject({ ok: true });
  });

  it('locks each serial counter alone: another type or year goes on, the same counter waits', async () => {
    const held = await holdLock(first, serialCounterLock(ISSUER, 'acceptance-notice', '2026'));
    const order: string[] = [];
    const sameCounter = allocateSerial(second, 'acceptance-notice', '2026').then((serial) => {
      order.push('same counter');
      return serial;
    });
    await waitForLockWaiters(1);
    expect(await allocateSerial(second, 'acceptance-notice', '2027')).toBe(1);
    order.push('other year');
    expect(await allocateSerial(second, 'business-licence', '2026')).toBe(1);
    order.push('other type');
    expect(order).toEqual(['other year', 'other type']);

    held.release();
    await held.done;
    expect(await sameCounter).toBe(1);
    expect(order).toEqual(['other year', 'other type', 'same counter']);
  });

  it('keeps one audit chain and distinct serials under concurrent appends and allocations from two pools', async () => {
    const appends = Array.from({ length: 40 }, (_, i) => new AuditLog(i % 2 ? first : second).append({ actor: 'test', action: 'seal', subject: `s${i}` }));
    const serials = Array.from({ length: 40 }, (_, i) => allocateSerial(i % 2 ? first : second, 'acceptance-notice', '2026'));
    await Promise.all(appends);
    const allocated = await Promise.all(serials);
    expect(new Set(allocated).size).toBe(40);
    expect(await new AuditLog(second).verify()).toEqual({ ok: true, entries: 40 });
  });

  it('refuses a lock outside a transaction rather than take it for nothing', async () => {
    await expect(first.lock(AUDIT_CHAIN_LOCK)).rejects.toThrow(/inside transaction/);
  });
});
