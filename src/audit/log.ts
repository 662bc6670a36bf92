import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';

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

export type ChainCheck = { ok: true; entries: number } | { ok: false; entries: number; brokenAt: number; reason: string };

/**
 * The append-only audit log: every entry carries the hash of the one before it, so changing,
 * removing or reordering any entry breaks the chain from that point on.
 */
export class AuditLog {
  /** Entries waiting for the next group commit, each with the caller waiting on it. */
  private waiting: Array<{ entry: AuditEntry; at: Date; done: (err?: unknown) => void }> = [];
  private committing = false;

  constructor(private readonly db: Db) {}

  /**
   * Appends in a transaction of its own, committed together with the entries other requests
   * append meanwhile (group commit): the first append commits at once, and whatever arrives
   * while a commit runs goes into the next one, so under load many entries share one commit
   * and one lock of the chain. Each caller is answered only once its entry is committed.
   */
  append(entry: AuditEntry, at = new Date()): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, at, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.committing) void this.commitWaiting();
    });
  }

  private async commitWaiting(): Promise<void> {
    this.committing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_GROUP_COMMIT);
      try {
        await this.db.transaction(async (tx) => {
          await this.appendAllIn(tx, batch);
        });
        for (const item of batch) item.done();
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
    await this.appendAllIn(tx, [{ entry, at }]);
  }

  private async appendAllIn(tx: Db, items: Array<{ entry: AuditEntry; at: Date }>): Promise<void> {
    await tx.lock(AUDIT_CHAIN_LOCK);
    const last = await tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? GENESIS;
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
      await tx.run('INSERT INTO audit_log (seq, at, actor, action, subject, document_sha256, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.subject,
        row.document_sha256,
        row.details,
        prevHash,
        hash,
      ]);
      prevHash = hash;
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
