import { createHash } from 'node:crypto';
import type { Db, SqlParam } from '../store/db.js';

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
const INSERT_COLUMNS = 'INSERT INTO audit_log (seq, at, actor, action, subject, document_sha256, details, prev_hash, hash) VALUES ';

/**
 * A condition an entry is recorded under, read in the transaction that records it, after the
 * chain's lock is taken: what the guard reads and the entry commit together, so nothing can
 * change between the check and the record (whatever changes what a guard reads holds the chain's
 * lock too). Entries that share a guard in one group commit are checked in one read.
 */
export interface AuditGuard {
  /** Of `subjects`, those that may not be recorded now, each with the error its caller gets. */
  refusals(tx: Db, subjects: readonly string[]): Promise<Map<string, Error>>;
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

/** The entries of `batch` their guards refuse, each with its error: one read per guard. */
async function guardRefusals(tx: Db, batch: readonly Pending[]): Promise<Map<Pending, Error>> {
  const refused = new Map<Pending, Error>();
  const byGuard = new Map<AuditGuard, Pending[]>();
  for (const item of batch) {
    if (!item.onlyIf) continue;
    const items = byGuard.get(item.onlyIf.guard) ?? [];
    items.push(item);
    byGuard.set(item.onlyIf.guard, items);
  }
  for (const [guard, items] of byGuard) {
    const refusals = await guard.refusals(tx, [...new Set(items.map((item) => item.onlyIf!.subject))]);
    for (const item of items) {
      const refusal = refusals.get(item.onlyIf!.subject);
      if (refusal) refused.set(item, refusal);
    }
  }
  return refused;
}

/**
 * The append-only audit log: every entry carries the hash of the one before it, so changing,
 * removing or reordering any entry breaks the chain from that point on.
 */
export class AuditLog {
  /** Entries waiting for the next group commit, each with the caller waiting on it. */
  private waiting: Pending[] = [];
  private committing = false;

  constructor(private readonly db: Db) {}

  /**
   * Appends in a transaction of its own, committed together with the entries other requests
   * append meanwhile (group commit): the first append commits at once, and whatever arrives
   * while a commit runs goes into the next one, so under load many entries share one commit
   * and one lock of the chain. Each caller is answered only once its entry is committed, or
   * with the error of its guard (`onlyIf`), when that refused it.
   */
  append(entry: AuditEntry, options: AppendOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, at: options.at ?? new Date(), onlyIf: options.onlyIf, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.committing) void this.commitWaiting();
    });
  }

  private async commitWaiting(): Promise<void> {
    this.committing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_GROUP_COMMIT);
      let refused = new Map<Pending, Error>();
      try {
        await this.db.transaction(
          async (tx) => {
            refused = await guardRefusals(tx, batch);
            await this.appendAllIn(
              tx,
              batch.filter((item) => !refused.has(item)),
              true,
            );
          },
          { locks: [AUDIT_CHAIN_LOCK] },
        );
        for (const item of batch) item.done(refused.get(item));
      } catch (err) {
        for (const item of batch) item.done(err ?? new Error('the audit entry could not be written'));
      }
    }
    this.committing = false;
  }

  /**
   * Appends within a transaction the caller holds, so that what is recorded and its audit entry
   * are committed together, or neither is. The chain's lock is held from here to the caller's
   * commit, so the caller appends last, after its other work and locks.
   */
  async appendIn(tx: Db, entry: AuditEntry, at = new Date()): Promise<void> {
    await this.appendAllIn(tx, [{ entry, at }], false);
  }

  private async appendAllIn(tx: Db, items: ReadonlyArray<{ entry: AuditEntry; at: Date }>, locked: boolean): Promise<void> {
    if (!locked) await tx.lock(AUDIT_CHAIN_LOCK);
    if (items.length === 0) return;
    const last = await tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? GENESIS;
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
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT);
      await tx.run(INSERT_COLUMNS + chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', '), chunk.flat());
    }
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
