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

/** Entries committed together at most: bounds one transaction's length under a burst. */
const MAX_GROUP_COMMIT = 256;

/** Held from reading the chain's head to commit, so appends from any instance form one chain. */
export const AUDIT_CHAIN_LOCK = 'audit-chain';

function entryHash(prevHash: string, row: Omit<Row, 'hash' | 'prev_hash'>): string {
  const canonical = JSON.stringify([row.seq, row.at, row.actor, row.action, row.subject, row.document_sha256, row.details]);
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/** Rows per INSERT statement: a few distinct statements, each prepared once. */
const ROWS_PER_INSERT = 16;
const INSERT_INTO = 'INSERT INTO audit_log (seq, at, actor, action, subject, document_sha256, details, prev_hash, hash)';
/** The placeholders of `count` rows. */
const rowValues = (count: number): string => Array.from({ length: count }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');

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

interface ChainHead {
  seq: number;
  hash: string;
}

const HEAD_READ: Statement = { sql: 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1', params: [] };

/** The rows that continue the chain after `head` with `items`, and the head they make. */
function chainRows(head: ChainHead | undefined, items: ReadonlyArray<{ entry: AuditEntry; at: Date }>): { rows: SqlParam[][]; head: ChainHead } {
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS;
  const rows: SqlParam[][] = [];
  for (const { entry, at } of items) {
    const row = {
      seq: ++seq,
      at: at.toISOString(),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      document_sha256: entry.documentSha256 ?? null,
      details: JSON.stringify(entry.details ?? {}),
    };
    const hash = entryHash(prevHash, row);
    rows.push([row.seq, row.at, row.actor, row.action, row.subject, row.document_sha256, row.details, prevHash, hash]);
    prevHash = hash;
  }
  return { rows, head: { seq, hash: prevHash } };
}

/** The statements that insert `rows`. */
function insertStatements(rows: SqlParam[][]): Statement[] {
  const statements: Statement[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    statements.push({ sql: `${INSERT_INTO} VALUES ${rowValues(chunk.length)}`, params: chunk.flat() });
  }
  return statements;
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
  /**
   * The chain's head as this process last wrote it: set by each commit, and unknown again when
   * a commit fails or finds the chain moved by someone else (another instance, `appendIn`).
   */
  private head: ChainHead | undefined;
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
    // Refused alone, before it joins a group: PostgreSQL text cannot hold a NUL, and the whole
    // group would fail with it. (Details are JSON, where a NUL is escaped.)
    if (entry.actor.includes('\0') || entry.subject.includes('\0')) return Promise.reject(new RangeError('an audit entry cannot hold a NUL character'));
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

  /** One group commit: at once when it can be (`commitAtOnce`), else reading first. Gives the entries refused, each with its error. */
  private async commit(batch: readonly Pending[]): Promise<Map<Pending, Error>> {
    let written: boolean;
    try {
      written = await this.commitAtOnce(batch);
    } catch (err) {
      // Not tried again: a connection lost after COMMIT leaves the entries written or not.
      this.head = undefined;
      throw err;
    }
    if (written) return new Map();
    this.head = undefined;
    return this.commitAfterReading(batch);
  }

  /**
   * The group's entries, continuing the head this process expects, in one statement that writes
   * them only if, under the chain's lock, the head is the one expected and every guard's read
   * gives the row it gave when it last let the subject be recorded (`RememberedGuards`): one
   * round trip on PostgreSQL, and the lock is held for the database's time alone. Whether the
   * entries were written; when not, nothing was.
   */
  private async commitAtOnce(batch: readonly Pending[]): Promise<boolean> {
    const expected = this.head;
    if (!expected) return false;
    const conditions: Statement[] = [{ sql: '(SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) = ?', params: [expected.hash] }];
    for (const { guard, subjects } of byGuard(batch)) {
      const unchanged = this.remembered.unchanged(guard, subjects);
      if (!unchanged) return false;
      conditions.push(unchanged);
    }
    const { rows, head } = chainRows(expected, batch);
    this.head = head;
    const { changes } = await this.db.writeAlone(
      {
        sql: `${INSERT_INTO} SELECT * FROM (VALUES ${rowValues(rows.length)}) AS entries WHERE ${conditions.map((c) => `(${c.sql})`).join(' AND ')}`,
        params: [...rows.flat(), ...conditions.flatMap((c) => c.params)],
      },
      { locks: [AUDIT_CHAIN_LOCK] },
    );
    if (changes === batch.length) return true;
    if (changes !== 0) throw new Error(`a group commit wrote ${changes} of ${batch.length} audit entries`);
    return false;
  }

  /**
   * A group commit in two round trips on PostgreSQL: under the chain's lock, the guards' reads
   * and the chain's head; then the entries the guards allow, and COMMIT. The rows read and the
   * head written are remembered for the next commit.
   */
  private async commitAfterReading(batch: readonly Pending[]): Promise<Map<Pending, Error>> {
    const guarded = byGuard(batch);
    const { refused, head } = await this.db.readThenWrite(
      [...guarded.map(({ guard, subjects }) => guard.read(subjects)), HEAD_READ],
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
        const read = rows.at(-1)![0] as ChainHead | undefined;
        const written = chainRows(read, batch.filter((item) => !refused.has(item)));
        return { statements: insertStatements(written.rows), value: { refused, head: written.head } };
      },
      { locks: [AUDIT_CHAIN_LOCK] },
    );
    this.head = head;
    return refused;
  }

  /**
   * Appends within a transaction the caller holds, so that what is recorded and its audit entry
   * are committed together, or neither is. The chain's lock is held from here to the caller's
   * commit, so the caller appends last, after its other work and locks.
   */
  async appendIn(tx: Db, entry: AuditEntry, at = new Date()): Promise<void> {
    await tx.lock(AUDIT_CHAIN_LOCK);
    const head = await tx.get<ChainHead>(HEAD_READ.sql);
    for (const { sql, params } of insertStatements(chainRows(head, [{ entry, at }]).rows)) await tx.run(sql, params);
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
