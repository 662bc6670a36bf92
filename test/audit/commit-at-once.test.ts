/**
 * The audit log's commit in one statement (AuditLog.commitAtOnce): the statement continues the
 * chain from the head it finds under the chain's lock, so an unguarded group is always written
 * at once; once a group commit has read a sealing's authority, the next group is written in one
 * statement too, on the condition, checked under the lock, that the authority rows are still
 * what was read. Whatever changed makes that statement write nothing, and the group is read and
 * judged again. On both engines.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { sealingAuthorityGuard, sealingSubject } from '../../src/sealing/sealing-authority.js';
import { ApiClientStore } from '../../src/store/api-clients.js';
import type { Db } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/open.js';
import { freshDatabaseTarget } from '../helpers/postgres.js';

let db: Db;
let clients: ApiClientStore;
beforeAll(async () => {
  db = await openDatabase(await freshDatabaseTarget('audit-at-once'));
  clients = new ApiClientStore(db, new AuditLog(db));
});
afterAll(async () => db?.close());

const YEAR = 365 * 24 * 3600 * 1000;

async function insertSeal(id: string, notAfter = new Date(Date.now() + YEAR)): Promise<void> {
  await db.run(
    `INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at)
     VALUES (?, 'org', 'uscc', 'official', 'name', 42, ?, '[]', '{}', ?, ?, 'active', ?)`,
    [id, Buffer.from('png'), new Date(Date.now() - YEAR).toISOString(), notAfter.toISOString(), new Date().toISOString()],
  );
}

/** A client that may seal with `sealId`. */
async function sealer(name: string, sealId: string): Promise<string> {
  return (await clients.create(name, ['seal'], [sealId])).client.id;
}

/** The one-statement commits made meanwhile (what each wrote) and the commits that read first. */
function watch(): { atOnce: () => Promise<Array<{ changes: number }>>; reading: () => number; restore: () => void } {
  const alone = vi.spyOn(db, 'writeAlone');
  const reads = vi.spyOn(db, 'readThenWrite');
  return {
    atOnce: () => Promise.all(alone.mock.results.map((result) => result.value as Promise<{ changes: number }>)),
    reading: () => reads.mock.calls.length,
    restore: () => {
      alone.mockRestore();
      reads.mockRestore();
    },
  };
}

describe('audit commit in one statement', () => {
  it('writes a sealing entry in one statement once its authority was read, and the chain verifies', async () => {
    await insertSeal('once-seal');
    const client = await sealer('once', 'once-seal');
    const audit = new AuditLog(db);
    const guarded = { onlyIf: { guard: sealingAuthorityGuard, subject: sealingSubject(client, 'once-seal') } };
    const commits = watch();
    try {
      await audit.append({ actor: client, action: 'seal', subject: 'once-seal' }, guarded);
      expect(commits.reading()).toBe(1);
      for (let i = 0; i < 3; i++) await audit.append({ actor: client, action: 'seal', subject: 'once-seal', details: { i } }, guarded);
      await audit.append({ actor: 'test', action: 'extend', subject: 'unguarded' });
      expect(commits.reading()).toBe(1);
      expect(await commits.atOnce()).toEqual([{ changes: 1 }, { changes: 1 }, { changes: 1 }, { changes: 1 }]);
    } finally {
      commits.restore();
    }
    const written = await db.all<{ actor: string; details: string }>("SELECT actor, details FROM audit_log WHERE subject = 'once-seal' ORDER BY seq");
    expect(written.map((r) => JSON.parse(r.details) as unknown)).toEqual([{}, { i: 0 }, { i: 1 }, { i: 2 }]);
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('refuses the next entry when the seal was revoked, the client disabled or the permission removed since, without the chain moving', async () => {
    const changes: Array<[string, (client: string, sealId: string) => Promise<unknown>, string]> = [
      ['revoked', (_client, sealId) => db.run("UPDATE seals SET status = 'revoked' WHERE id = ?", [sealId]), 'seal-not-active'],
      ['disabled', (client) => db.run('UPDATE api_clients SET disabled = 1 WHERE id = ?', [client]), 'client-unavailable'],
      ['unlisted', (client, sealId) => db.run('DELETE FROM client_seals WHERE client_id = ? AND seal_id = ?', [client, sealId]), 'seal-not-permitted'],
    ];
    for (const [name, change, reason] of changes) {
      await insertSeal(`changed-${name}`);
      const client = await sealer(`changed-${name}`, `changed-${name}`);
      const audit = new AuditLog(db);
      const guarded = { onlyIf: { guard: sealingAuthorityGuard, subject: sealingSubject(client, `changed-${name}`) } };
      await audit.append({ actor: client, action: 'seal', subject: `changed-${name}` }, guarded);
      await audit.append({ actor: client, action: 'seal', subject: `changed-${name}` }, guarded);
      // Changed behind the log's back, so that only the authority condition can stop the next entry.
      await change(client, `changed-${name}`);
      const commits = watch();
      try {
        await expect(audit.append({ actor: client, action: 'seal', subject: `changed-${name}` }, guarded)).rejects.toMatchObject({ reason });
        expect(await commits.atOnce()).toEqual([{ changes: 0 }]);
        expect(commits.reading()).toBe(1);
      } finally {
        commits.restore();
      }
      expect((await db.all("SELECT seq FROM audit_log WHERE subject = ?", [`changed-${name}`])).length).toBe(2);
      expect(await audit.verify()).toMatchObject({ ok: true });
    }
  });

  it('continues the chain in one statement after other writers moved it', async () => {
    await insertSeal('moved-seal');
    const client = await sealer('moved', 'moved-seal');
    const audit = new AuditLog(db);
    const other = new AuditLog(db);
    const guarded = { onlyIf: { guard: sealingAuthorityGuard, subject: sealingSubject(client, 'moved-seal') } };
    await audit.append({ actor: client, action: 'seal', subject: 'moved-seal' }, guarded);
    await other.append({ actor: 'other instance', action: 'extend', subject: 'moved' });
    await db.transaction(async (tx) => audit.appendIn(tx, { actor: 'in a transaction', action: 'license.issue', subject: 'moved' }), { locks: [] });
    const commits = watch();
    try {
      await audit.append({ actor: client, action: 'seal', subject: 'moved-seal', details: { after: 'moved' } }, guarded);
      await other.append({ actor: 'other instance', action: 'extend', subject: 'moved again' });
      await audit.append({ actor: client, action: 'seal', subject: 'moved-seal', details: { after: 'moved again' } }, guarded);
      expect(await commits.atOnce()).toEqual([{ changes: 1 }, { changes: 1 }, { changes: 1 }]);
      expect(commits.reading()).toBe(0);
    } finally {
      commits.restore();
    }
    expect(await audit.verify()).toMatchObject({ ok: true });
    const last = await db.all<{ actor: string; details: string }>('SELECT actor, details FROM audit_log ORDER BY seq DESC LIMIT 5');
    expect(last.map((r) => [r.actor, JSON.parse(r.details)]).reverse()).toEqual([
      ['other instance', {}],
      ['in a transaction', {}],
      [client, { after: 'moved' }],
      ['other instance', {}],
      [client, { after: 'moved again' }],
    ]);
  });

  it('reads again, and refuses, when a seal\'s validity has ended since its authority was read, though its row is unchanged', async () => {
    const notAfter = Date.now() + 3000;
    await insertSeal('ending-seal', new Date(notAfter));
    const client = await sealer('ending', 'ending-seal');
    const audit = new AuditLog(db);
    const guarded = { onlyIf: { guard: sealingAuthorityGuard, subject: sealingSubject(client, 'ending-seal') } };
    await audit.append({ actor: client, action: 'seal', subject: 'ending-seal' }, guarded);
    while (Date.now() <= notAfter) await new Promise((resolve) => setTimeout(resolve, notAfter + 50 - Date.now()));
    const commits = watch();
    try {
      await expect(audit.append({ actor: client, action: 'seal', subject: 'ending-seal' }, guarded)).rejects.toMatchObject({ reason: 'seal-certificate-not-valid' });
      expect(await commits.atOnce()).toEqual([]);
      expect(commits.reading()).toBe(1);
    } finally {
      commits.restore();
    }
    expect(await audit.verify()).toMatchObject({ ok: true });
  });
});
