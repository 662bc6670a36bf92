/**
 * The audit chain's hash, fixed: the statement that appends entries computes each hash in the
 * database (`sha256_hex`), and chains written before it were hashed in the process. Both must give
 * the documented hash, SHA-256 over the previous entry's hash (64 zeros for the first) followed by
 * the JSON array [seq, at, actor, action, subject, document_sha256, details], so that a chain
 * keeps verifying across versions. The expected hashes were computed with node:crypto from that
 * definition. On both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import type { Db } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/open.js';
import { freshDatabaseTarget } from '../helpers/postgres.js';

let db: Db;
beforeAll(async () => {
  db = await openDatabase(await freshDatabaseTarget('audit-hash'));
});
afterAll(async () => db?.close());

describe('the audit chain hash', () => {
  it('is the documented hash, for a group commit and an append inside a transaction alike', async () => {
    const audit = new AuditLog(db);
    await audit.append(
      { actor: 'client 印章', action: 'seal', subject: 'subject "q"', details: { level: 'B-B', text: 'é 😀' } },
      { at: new Date('2026-11-30T00:00:00.000Z') },
    );
    await db.transaction(async (tx) =>
      audit.appendIn(tx, { actor: 'cli', action: 'license.issue', subject: 'L-1', documentSha256: 'ab'.repeat(32) }, new Date('2026-11-30T00:00:01.000Z')),
    );
    const rows = await db.all<{ seq: number; prev_hash: string; hash: string }>('SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq');
    expect(rows).toEqual([
      { seq: 1, prev_hash: '0'.repeat(64), hash: 'a330baf481b9310d13646a17d81012958fdc6413b6ece3082325cb9da9b1f472' },
      { seq: 2, prev_hash: 'a330baf481b9310d13646a17d81012958fdc6413b6ece3082325cb9da9b1f472', hash: '6e52e16a2ed89d7b63a7e280de04eb63b7454fdd5522f611b778090eefccfee3' },
    ]);
    expect(await audit.verify()).toEqual({ ok: true, entries: 2 });
  });
});
