import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';

export type AuditAction =
  | 'seal'
  | 'extend'
  | 'license.issue'
  | 'license.replace'
  | 'license.revoke'
  | 'license.lookup'
  | 'seal.register'
  | 'seal.revoke'
  | 'client.create'
  | 'client.disable';

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
  constructor(private readonly db: Db) {}

  async append(entry: AuditEntry, at = new Date()): Promise<void> {
    await this.db.transaction((tx) => this.appendIn(tx, entry, at));
  }

  /**
   * Appends within a transaction the caller holds, so that what is recorded and its audit entry
   * are committed together, or neither is. The chain's lock is held from here to the caller's
   * commit, so the caller appends last, after its other work and locks.
   */
  async appendIn(tx: Db, entry: AuditEntry, at = new Date()): Promise<void> {
    {
      await tx.lock(AUDIT_CHAIN_LOCK);
      const last = await tx.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
      const row = {
        seq: (last?.seq ?? 0) + 1,
        at: at.toISOString(),
        actor: entry.actor,
        action: entry.action,
        subject: entry.subject,
        document_sha256: entry.documentSha256 ?? null,
        details: JSON.stringify(entry.details ?? {}),
      };
      const prevHash = last?.hash ?? GENESIS;
      await tx.run('INSERT INTO audit_log (seq, at, actor, action, subject, document_sha256, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.subject,
        row.document_sha256,
        row.details,
        prevHash,
        entryHash(prevHash, row),
      ]);
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
