/**
 * Group commit of the audit log: entries appended while a commit runs share the next one, the
 * chain stays whole, and no caller is answered before its entry is committed.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import type { Db } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/open.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tools.js';

let db: Db;
beforeAll(async () => {
  const url = await testDatabaseUrl();
  db = await openDatabase(url ? { kind: 'postgres', url, poolSize: 4 } : { kind: 'sqlite', file: path.join(tempDir('audit-group'), 'db.sqlite') });
});
afterAll(async () => db?.close());

describe('audit group commit', () => {
  it('commits a burst of appends in fewer transactions, in one unbroken chain, each answered after its commit', async () => {
    const audit = new AuditLog(db);
    const transactions = vi.spyOn(db, 'transaction');
    const count = 60;
    const seenAfterAnswer: boolean[] = [];
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        audit.append({ actor: 'test', action: 'seal', subject: `burst-${i}` }).then(async () => {
          // Answered: the entry is committed, so a read outside any transaction finds it.
          seenAfterAnswer[i] = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_log WHERE subject = ?', [`burst-${i}`]))!.n === 1;
        }),
      ),
    );
    expect(seenAfterAnswer).toEqual(Array(count).fill(true));
    expect(transactions.mock.calls.length).toBeGreaterThan(0);
    expect(transactions.mock.calls.length).toBeLessThan(count);
    transactions.mockRestore();
    const subjects = (await db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE subject LIKE 'burst-%' ORDER BY seq")).map((r) => r.subject);
    expect(subjects).toEqual(Array.from({ length: count }, (_, i) => `burst-${i}`));
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('fails every caller of a commit that fails, and the next commit goes on', async () => {
    const audit = new AuditLog(db);
    const failing = vi.spyOn(db, 'transaction').mockImplementationOnce(() => Promise.reject(new Error('disk full')));
    const results = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => audit.append({ actor: 'test', action: 'seal', subject: `fail-${i}` })));
    // The first append commits alone and fails; the two that waited share the next commit.
    expect(results[0]).toMatchObject({ status: 'rejected' });
    expect(results.slice(1).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    failing.mockRestore();
    const subjects = (await db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE subject LIKE 'fail-%' ORDER BY seq")).map((r) => r.subject);
    expect(subjects).toEqual(['fail-1', 'fail-2']);
    expect(await audit.verify()).toMatchObject({ ok: true });
  });
});
