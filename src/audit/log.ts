import { createHash } from 'node:crypto';
import type { Db, SqlParam, Statement } from '../store/db.js';
import type { AuditGuard } from './guard.js';
import { RememberedGuards } from './remembered-guards.js';

export type AuditAction =
  | 'seal'
  | 'ses.sign'
  | 'extend'
  | 'license.issue'
  | 'license.replace'
  | 'license.revoke'
  | 'license.lookup'
  | 'license.access-log'
  | 'seal.register'
  | 'seal.revoke'
  | 'client.create'
  | 'client.disable'
  | 'client.bind'
  | 'client.unbind'
  | 'client.purpose';

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  subject: string;
  documentSha256?: string;
  details?: Record<string, unknown>;
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  document_sha256: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

/** In a `u` pattern a surrogate pair is one code point, so this matches only an unpaired half. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Entries committed together at most: bounds one transaction's length under a burst. */
const MAX_GROUP_COMMIT = 256;

/** Held by every append, from before it reads the chain's head to its commit, so appends from any instance form one chain. */
export const AUDIT_CHAIN_LOCK = 'audit-chain';

function entryHash(prevHash: string, row: Omit<Row, 'hash' | 'prev_hash'>): string {
  const canonical = JSON.stringify([row.seq, row.at, row.actor, row.action, row.subject, row.document_sha256, row.details]);
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

export interface AppendOptions {
  at?: Date;
  /** Record the entry only if `guard` lets `subject` be recorded; else the append fails with the guard's error and nothing is written. */
  onlyIf?: { guard: AuditGuard; subject: string };
}

interface Pending {
  entry: AuditEntry;
  at: Date;
  onlyIf?: AppendOptions['onlyIf'];
  done: (err?: unknown) => void;
}

export type ChainCheck = { ok: true; entries: number } | { ok: false; entries: number; brokenAt: number; reason: string };

/**
 * The statement that continues the chain with `items`, in their order, only where every one of
 * `conditions` holds: it reads the chain's head and computes each entry's sequence number and
 * hash itself (`sha256_hex`, over the canonical text `entryHash` hashes, all of which but the
 * sequence number is made here), so it never depends on a head read before. It runs under the
 * chain's lock, which keeps two appends from reading one head.
 */
function chainInsert(items: ReadonlyArray<{ entry: AuditEntry; at: Date }>, conditions: readonly Statement[]): Statement {
  const params: SqlParam[] = [];
  items.forEach(({ entry, at }, i) => {
    const fields = [at.toISOString(), entry.actor, entry.action, entry.subject, entry.documentSha256 ?? null, JSON.stringify(entry.details ?? {})];
    // `[seq,` and this tail make JSON.stringify([seq, ...fields]).
    params.push(...fields, JSON.stringify(fields).slice(1));
  });
  for (const condition of conditions) params.push(...condition.params);
  // Positions written as numbers: a parameter would be typed text on PostgreSQL.
  const values = items.map((_, i) => `(${i + 1}, ?, ?, ?, ?, ?, ?, ?)`).join(', ');
  const sql = `WITH RECURSIVE
    entries (n, at, actor, action, subject, document_sha256, details, tail) AS (VALUES ${values}),
    head (seq, hash) AS (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1),
    chain (n, seq, prev_hash, hash) AS (
      SELECT 0, COALESCE((SELECT seq FROM head), 0), CAST(NULL AS TEXT), COALESCE((SELECT hash FROM head), '${GENESIS}')
      UNION ALL
      SELECT entries.n, chain.seq + 1, chain.hash, sha256_hex(chain.hash || '[' || (chain.seq + 1) || ',' || entries.tail)
      FROM chain JOIN entries ON entries.n = chain.n + 1
    )
    INSERT INTO audit_log (seq, at, actor, action, subject, document_sha256, details, prev_hash, hash)
    SELECT chain.seq, entries.at, entries.actor, entries.action, entries.subject, entries.document_sha256, entries.details, chain.prev_hash, chain.hash
    FROM chain JOIN entries ON entries.n = chain.n
    WHERE ${conditions.length > 0 ? conditions.map((c) => `(${c.sql})`).join(' AND ') : '1 = 1'}`;
  return { sql, params };
}

/**
 * Why the entry's text cannot be stored as it is hashed, if it cannot: PostgreSQL text cannot
 * hold a NUL, and a lone surrogate is stored as U+FFFD by either engine, so the entry read back
 * would not be the one hashed. (Details are JSON, where both are escaped.)
 */
function unstorableText(entry: AuditEntry): RangeError | undefined {
  for (const text of [entry.actor, entry.subject, entry.documentSha256 ?? '']) {
    if (text.includes('\0')) return new RangeError('an audit entry cannot hold a NUL character');
    if (LONE_SURROGATE.test(text)) return new RangeError('an audit entry cannot hold a lone surrogate');
  }
  return undefined;
}

/** The entries of `batch` under a guard, by guard, with their subjects once. */
function byGuard(batch: readonly Pending[]): Array<{ guard: AuditGuard; items: Pending[]; subjects: string[] }> {
  const items = new Map<AuditGuard, Pending[]>();
  for (const item of batch) {
    if (!item.onlyIf) continue;
    const guarded = items.get(item.onlyIf.guard) ?? [];
    guarded.push(item);
    items.set(item.onlyIf.guard, guarded);
  }
  return [...items].map(([guard, guarded]) => ({ guard, items: guarded, subjects: [...new Set(guarded.map((item) => item.onlyIf!.subject))] }));
}

/**
 * The append-only audit log: every entry carries the hash of the one before it, so changing,
 * removing or reordering any entry breaks the chain from that point on.
 */
export class AuditLog {
  /** Entries waiting for the next group commit, each with the caller waiting on it. */
  private waiting: Pending[] = [];
  private committing = false;
  private readonly remembered = new RememberedGuards();

  constructor(private readonly db: Db) {}

  /**
   * Appends in a transaction of its own, committed together with the entries other requests
   * append meanwhile (group commit): a commit starts at the end of the event loop's turn in
   * which its first entry was appended, and whatever arrives while a commit runs goes into the
   * next one, so under load many entries share one commit and one lock of the chain. Each
   * caller is answered only once its entry is committed, or with the error of its guard
   * (`onlyIf`), when that refused it.
   */
  append(entry: AuditEntry, options: AppendOptions = {}): Promise<void> {
    // Refused alone, before it joins a group: it would fail the group's commit or break the chain.
    const unstorable = unstorableText(entry);
    if (unstorable) return Promise.reject(unstorable);
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, at: options.at ?? new Date(), onlyIf: options.onlyIf, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (this.committing) return;
      // Started once the event loop has run the requests that are ready now, so that those
      // finishing in one turn share a commit: on SQLite, whose commits are synchronous, nothing
      // else would ever join one.
      this.committing = true;
      setImmediate(() => void this.commitWaiting());
    });
  }

  private async commitWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_GROUP_COMMIT);
      try {
        const refused = await this.commit(batch);
        for (const item of batch) item.done(refused.get(item));
      } catch (err) {
        for (const item of batch) item.done(err ?? new Error('the audit entry could not be written'));
      }
    }
    this.committing = false;
  }

  /**
   * One group commit: in one statement when every guard's subjects have rows remembered
   * (`commitAtOnce`), else reading first. Gives the entries refused, each with its error. A
   * commit that fails is not tried again: a connection lost after COMMIT leaves its entries
   * written or not.
   */
  private async commit(batch: readonly Pending[]): Promise<Map<Pending, Error>> {
    if (await this.commitAtOnce(batch)) return new Map();
    return this.commitAfterReading(batch);
  }

  /**
   * The group's entries in one statement that writes them only if, under the chain's lock,
   * every guard's read gives the row it gave when it last let the subject be recorded
   * (`RememberedGuards`): one round trip on PostgreSQL, and the lock is held for the database's
   * time alone. Whether the entries were written; when not, nothing was.
   */
  private async commitAtOnce(batch: readonly Pending[]): Promise<boolean> {
    const conditions: Statement[] = [];
    for (const { guard, subjects } of byGuard(batch)) {
      const unchanged = this.remembered.unchanged(guard, subjects);
      if (!unchanged) return false;
      conditions.push(unchanged);
    }
    const { changes } = await this.db.writeAlone(chainInsert(batch, conditions), { locks: [AUDIT_CHAIN_LOCK] });
    if (changes === batch.length) return true;
    if (changes !== 0) throw new Error(`a group commit wrote ${changes} of ${batch.length} audit entries`);
    return false;
  }

  /**
   * A group commit in two round trips on PostgreSQL: under the chain's lock, the guards' reads;
   * then the entries the guards allow, and COMMIT. The rows read are remembered for the next
   * commit.
   */
  private async commitAfterReading(batch: readonly Pending[]): Promise<Map<Pending, Error>> {
    const guarded = byGuard(batch);
    return this.db.readThenWrite(
      guarded.map(({ guard, subjects }) => guard.read(subjects)),
      (rows) => {
        const refused = new Map<Pending, Error>();
        guarded.forEach(({ guard, items, subjects }, i) => {
          const refusals = guard.refusals(rows[i]!, subjects);
          this.remembered.remember(guard, rows[i]!, refusals);
          for (const item of items) {
            const refusal = refusals.get(item.onlyIf!.subject);
            if (refusal) refused.set(item, refusal);
          }
        });
        const allowed = batch.filter((item) => !refused.has(item));
        return { statements: allowed.length > 0 ? [chainInsert(allowed, [])] : [], value: refused };
      },
      { locks: [AUDIT_CHAIN_LOCK] },
    );
  }

  /**
   * Appends within a transaction the caller holds, so that what is recorded and its audit entry
   * are committed together, or neither is. The chain's lock is held from here to the caller's
   * commit, so the caller appends last, after its other work and locks.
   */
  async appendIn(tx: Db, entry: AuditEntry, at = new Date()): Promise<void> {
    const unstorable = unstorableText(entry);
    if (unstorable) throw unstorable;
    await tx.lock(AUDIT_CHAIN_LOCK);
    const { sql, params } = chainInsert([{ entry, at }], []);
    await tx.run(sql, params);
  }

  async entries(limit = 1000): Promise<Array<Omit<Row, 'details'> & { details: unknown }>> {
    const rows = await this.db.all<Row>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?', [limit]);
    return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as unknown }));
  }

  /** Walks the whole chain and says where it first breaks. */
  async verify(): Promise<ChainCheck> {
    const rows = await this.db.all<Row>('SELECT * FROM audit_log ORDER BY seq');
    let prevHash = GENESIS;
    let expectedSeq = 1;
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, entries: rows.length, brokenAt: expectedSeq, reason: `entry ${expectedSeq} is missing` };
      if (row.prev_hash !== prevHash) return { ok: false, entries: rows.length, brokenAt: row.seq, reason: `entry ${row.seq} does not follow entry ${row.seq - 1}` };
      if (entryHash(prevHash, row) !== row.hash) return { ok: false, entries: rows.length, brokenAt: row.seq, reason: `entry ${row.seq} was changed after it was written` };
      prevHash = row.hash;
      expectedSeq++;
    }
    return { ok: true, entries: rows.length };
  }
}
