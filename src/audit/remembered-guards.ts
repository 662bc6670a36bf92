import type { SqlParam, Statement } from '../store/db.js';
import type { AuditGuard } from './guard.js';

/**
 * What each guard last read for a subject, under the chain's lock, where it let the subject be
 * recorded: the rows of a group commit's reads, kept so that the next commit of the same
 * subjects can be sent at once, on the condition that the guard's read, made again under the
 * lock in that commit, gives exactly the row remembered. Whether that row allows the entry is
 * judged here, by the guard itself (`refusals`), when the commit is sent, so the rule lives in
 * one place; the database only compares values. A subject whose row changed in any way (a
 * client disabled, a seal revoked, a permission removed) fails the comparison, and its commit
 * takes the path that reads and judges again.
 */

/** Subjects remembered per guard at most; the oldest are forgotten first. */
const MAX_REMEMBERED = 10_000;

/** Column names as the guards' reads give them, the only ones written into a condition. */
const PLAIN_COLUMN = /^[a-z_][a-z0-9_]*$/;

export class RememberedGuards {
  private readonly rows = new Map<AuditGuard, Map<string, Record<string, unknown>>>();

  /** Keeps the rows of `guard`'s read whose subject it did not refuse, and forgets those it did. */
  remember(guard: AuditGuard, rows: unknown[], refused: ReadonlyMap<string, Error>): void {
    let kept = this.rows.get(guard);
    if (!kept) this.rows.set(guard, (kept = new Map()));
    for (const row of rows as Array<Record<string, unknown>>) {
      const subject = guard.subjectOf(row);
      kept.delete(subject);
      if (refused.has(subject)) continue;
      kept.set(subject, row);
      if (kept.size > MAX_REMEMBERED) kept.delete(kept.keys().next().value!);
    }
  }

  /**
   * The SQL condition that `guard`'s read still gives, for each of `subjects`, the row
   * remembered, or undefined when a subject has none, its row would now be refused (a validity
   * that has ended since), or a row cannot be written as a condition.
   */
  unchanged(guard: AuditGuard, subjects: readonly string[]): Statement | undefined {
    const kept = this.rows.get(guard);
    if (!kept) return undefined;
    const conditions: string[] = [];
    const params: SqlParam[] = [];
    for (const subject of subjects) {
      const row = kept.get(subject);
      if (!row || guard.refusals([row], [subject]).size > 0) return undefined;
      const read = guard.read([subject]);
      const columns: string[] = [];
      const values: SqlParam[] = [];
      for (const [column, value] of Object.entries(row)) {
        if (!PLAIN_COLUMN.test(column)) return undefined;
        if (value === null) columns.push(`remembered.${column} IS NULL`);
        else if (typeof value === 'string' || typeof value === 'number') {
          columns.push(`remembered.${column} = ?`);
          values.push(value);
        } else return undefined;
      }
      conditions.push(`EXISTS (SELECT 1 FROM (${read.sql}) AS remembered WHERE ${columns.join(' AND ')})`);
      params.push(...read.params, ...values);
    }
    return { sql: conditions.length > 0 ? conditions.join(' AND ') : '1 = 1', params };
  }
}
