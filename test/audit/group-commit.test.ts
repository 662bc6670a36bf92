/**
 * Group commit of the audit log: entries appended while a commit runs share the next one, the
 * chain stays whole, and no caller is answered before its entry is committed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { SealingClientError, SealUnavailableError } from '../../src/sealing/errors.js';
import { sealingAuthorityGuard, sealingSubject } from '../../src/sealing/sealing-authority.js';
import { ApiClientStore } from '../../src/store/api-clients.js';
import type { Db } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/open.js';
import { freshDatabaseTarget } from '../helpers/postgres.js';

let db: Db;
beforeAll(async () => {
  db = await openDatabase(await freshDatabaseTarget('audit-group'));
});
afterAll(async () => db?.close());

describe('audit group commit', () => {
  it('commits a burst of appends in fewer transactions, in one unbroken chain, each answered after its commit', async () => {
    const audit = new AuditLog(db);
    const alone = vi.spyOn(db, 'writeAlone');
    const reading = vi.spyOn(db, 'readThenWrite');
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
    const transactions = alone.mock.calls.length + reading.mock.calls.length;
    alone.mockRestore();
    reading.mockRestore();
    expect(transactions).toBeGreaterThan(0);
    expect(transactions).toBeLessThan(count);
    const subjects = (await db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE subject LIKE 'burst-%' ORDER BY seq")).map((r) => r.subject);
    expect(subjects).toEqual(Array.from({ length: count }, (_, i) => `burst-${i}`));
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('fails every caller of a commit that fails, and the next commit goes on', async () => {
    const audit = new AuditLog(db);
    // Unguarded entries are written in one statement (AuditLog.commitAtOnce).
    const failing = vi.spyOn(db, 'writeAlone').mockImplementationOnce(() => Promise.reject(new Error('disk full')));
    // Appended in one turn of the event loop, the three share the commit that fails.
    const failed = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => audit.append({ actor: 'test', action: 'seal', subject: `fail-${i}` })));
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const after = await Promise.allSettled(Array.from({ length: 2 }, (_, i) => audit.append({ actor: 'test', action: 'seal', subject: `fail-after-${i}` })));
    expect(after.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    failing.mockRestore();
    const subjects = (await db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE subject LIKE 'fail-%' ORDER BY seq")).map((r) => r.subject);
    expect(subjects).toEqual(['fail-after-0', 'fail-after-1']);
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('shares one commit among the appends of separate callbacks in one turn of the event loop, as requests finishing together', async () => {
    const audit = new AuditLog(db);
    await audit.append({ actor: 'test', action: 'seal', subject: 'turn-first' });
    const alone = vi.spyOn(db, 'writeAlone');
    const reading = vi.spyOn(db, 'readThenWrite');
    try {
      // Callbacks queued together run in one check phase, each with its own microtasks, as the
      // I/O callbacks of requests that arrive together do in one poll phase.
      const appended = await Promise.all(
        Array.from({ length: 3 }, (_, i) => new Promise<Promise<void>>((resolve) => setImmediate(() => resolve(audit.append({ actor: 'test', action: 'seal', subject: `turn-${i}` }))))),
      );
      await Promise.all(appended);
      expect(alone.mock.calls.length + reading.mock.calls.length).toBe(1);
    } finally {
      alone.mockRestore();
      reading.mockRestore();
    }
    const subjects = (await db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE subject LIKE 'turn-%' ORDER BY seq")).map((r) => r.subject);
    expect(subjects).toEqual(['turn-first', 'turn-0', 'turn-1', 'turn-2']);
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('hashes any text: the chain verifies across group commits and appends inside transactions', async () => {
    const audit = new AuditLog(db);
    const awkward = ['印章 𠮷 😀', 'quote " and \\ backslash', 'line\nbreak\ttab', 'separator \u2028 \u2029', 'control \u0001 \u001f', 'é (composed) e\u0301 (combining)'];
    await Promise.all(awkward.map((text, i) => audit.append({ actor: text, action: 'seal', subject: `awkward-${i}`, documentSha256: 'ab'.repeat(32), details: { text, nested: { list: [text, 1, null, true] } } })));
    await db.transaction(async (tx) => audit.appendIn(tx, { actor: awkward[0]!, action: 'license.issue', subject: 'inside a transaction', details: { text: awkward[3] } }));
    await audit.append({ actor: 'test', action: 'seal', subject: 'after' });
    expect(await audit.verify()).toMatchObject({ ok: true });
    const rows = await db.all<{ actor: string; details: string }>("SELECT actor, details FROM audit_log WHERE subject LIKE 'awkward-%' ORDER BY seq");
    expect(rows.map((r) => r.actor).sort()).toEqual([...awkward].sort());
    expect(rows.map((r) => (JSON.parse(r.details) as { text: string }).text).sort()).toEqual([...awkward].sort());
  });

  it('refuses an entry holding a NUL alone, and commits the rest of its burst', async () => {
    const audit = new AuditLog(db);
    const results = await Promise.allSettled([
      audit.append({ actor: 'test', action: 'seal', subject: 'nul-before' }),
      audit.append({ actor: 'test', action: 'seal', subject: 'nul \0 inside' }),
      audit.append({ actor: 'te\0st', action: 'seal', subject: 'nul-actor' }),
      audit.append({ actor: 'test', action: 'seal', subject: 'nul-after', details: { text: 'escaped in JSON: \0' } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const subjects = (await db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE subject LIKE 'nul%' ORDER BY seq")).map((r) => r.subject);
    expect(subjects).toEqual(['nul-before', 'nul-after']);
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('refuses text with a lone surrogate, which either engine would store changed, and keeps escaped ones in details', async () => {
    const audit = new AuditLog(db);
    const lone = 'half \ud83d of a pair';
    const results = await Promise.allSettled([
      audit.append({ actor: 'test', action: 'seal', subject: 'surrogate-before' }),
      audit.append({ actor: lone, action: 'seal', subject: 'surrogate-actor' }),
      audit.append({ actor: 'test', action: 'seal', subject: `surrogate-subject ${lone}` }),
      audit.append({ actor: 'test', action: 'seal', subject: 'surrogate-after', details: { text: lone, pair: '😀' } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    await expect(db.transaction(async (tx) => audit.appendIn(tx, { actor: lone, action: 'license.issue', subject: 'surrogate-in-transaction' }))).rejects.toThrow(/lone surrogate/);
    const rows = await db.all<{ subject: string; details: string }>("SELECT subject, details FROM audit_log WHERE subject LIKE 'surrogate%' ORDER BY seq");
    expect(rows.map((r) => r.subject)).toEqual(['surrogate-before', 'surrogate-after']);
    expect(JSON.parse(rows[1]!.details)).toEqual({ text: lone, pair: '😀' });
    expect(await audit.verify()).toMatchObject({ ok: true });
    // Why: stored as text, the half comes back as U+FFFD, so the entry read back is not the one hashed.
    await db.run("INSERT INTO schema_migrations (version, applied_at) VALUES (-1, ?)", [lone]);
    expect((await db.get<{ applied_at: string }>('SELECT applied_at FROM schema_migrations WHERE version = -1'))!.applied_at).not.toBe(lone);
    await db.run('DELETE FROM schema_migrations WHERE version = -1');
  });

  it("writes a sealing's entry only while its client may use the seal, and the rest of its group regardless", async () => {
    const audit = new AuditLog(db);
    const year = 365 * 24 * 3600 * 1000;
    const insertSeal = (id: string, status: string, notBefore: Date, notAfter: Date) =>
      db.run(
        `INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at)
         VALUES (?, 'org', 'uscc', 'official', 'name', 42, ?, '[]', '{}', ?, ?, ?, ?)`,
        [id, Buffer.from('png'), notBefore.toISOString(), notAfter.toISOString(), status, new Date().toISOString()],
      );
    const now = Date.now();
    await insertSeal('guard-active', 'active', new Date(now - year), new Date(now + year));
    await insertSeal('guard-revoked', 'revoked', new Date(now - year), new Date(now + year));
    await insertSeal('guard-expired', 'active', new Date(now - 2 * year), new Date(now - year));
    await insertSeal('guard-future', 'active', new Date(now + year), new Date(now + 2 * year));
    const clients = new ApiClientStore(db, audit);
    const allSeals = ['guard-active', 'guard-revoked', 'guard-expired', 'guard-future'];
    const sealer = (await clients.create('sealer', ['seal'], allSeals)).client.id;
    const admin = (await clients.create('admin', ['admin'], ['guard-active'])).client.id;
    const reader = (await clients.create('reader', ['lookup'], allSeals)).client.id;
    const unlisted = (await clients.create('unlisted', ['seal'], ['guard-revoked'])).client.id;
    const disabled = (await clients.create('disabled', ['seal'], allSeals)).client.id;
    expect(await clients.disable(disabled, 'test')).toBe(true);
    const guarded = (clientId: string, sealId: string) =>
      audit.append({ actor: clientId, action: 'seal', subject: sealId }, { onlyIf: { guard: sealingAuthorityGuard, subject: sealingSubject(clientId, sealId) } });
    const results = await Promise.allSettled([
      guarded(sealer, 'guard-active'),
      guarded(sealer, 'guard-revoked'),
      audit.append({ actor: 'test', action: 'seal', subject: 'unguarded' }),
      guarded(sealer, 'guard-expired'),
      guarded(sealer, 'guard-future'),
      guarded(sealer, 'guard-missing'),
      guarded(unlisted, 'guard-active'),
      guarded(reader, 'guard-active'),
      guarded(disabled, 'guard-active'),
      guarded('no-such-client', 'guard-active'),
      guarded(admin, 'guard-active'),
      guarded(sealer, 'guard-active'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    const reasons = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as SealUnavailableError | SealingClientError).reason] : []));
    expect(reasons).toEqual(['seal-not-active', 'seal-certificate-not-valid', 'seal-certificate-not-valid', 'unknown-seal', 'seal-not-permitted', 'client-lacks-role', 'client-unavailable', 'client-unavailable']);
    const written = (await db.all<{ actor: string; subject: string }>("SELECT actor, subject FROM audit_log WHERE action = 'seal' AND (subject LIKE 'guard-%' OR subject = 'unguarded') ORDER BY seq")).map((r) => `${r.actor} ${r.subject}`);
    expect(written.sort()).toEqual([`${admin} guard-active`, `${sealer} guard-active`, `${sealer} guard-active`, 'test unguarded'].sort());
    expect(await audit.verify()).toMatchObject({ ok: true });
  });
});
