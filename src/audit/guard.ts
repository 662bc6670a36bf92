import type { Statement } from '../store/db.js';

/**
 * A condition an entry is recorded under, read in the transaction that records it, after the
 * chain's lock is taken: what the guard reads and the entry commit together, so nothing can
 * change between the check and the record (whatever changes what a guard reads holds the chain's
 * lock too). Entries that share a guard in one group commit are checked in one read.
 */
export interface AuditGuard {
  /** The read that decides which of `subjects` may be recorded now: a row per subject. */
  read(subjects: readonly string[]): Statement;
  /** Of `subjects`, from the rows of that read, those that may not be recorded, each with the error its caller gets. */
  refusals(rows: unknown[], subjects: readonly string[]): Map<string, Error>;
  /** The subject a row of the read is about. */
  subjectOf(row: unknown): string;
}
