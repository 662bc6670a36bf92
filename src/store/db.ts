export type SqlParam = string | number | bigint | Buffer | null;

/**
 * The one query layer, implemented over SQLite and PostgreSQL. SQL uses `?` placeholders and
 * the subset of SQL both engines share (`ON CONFLICT ... DO NOTHING`, no engine functions).
 */
export interface Db {
  all<T>(sql: string, params?: SqlParam[]): Promise<T[]>;
  get<T>(sql: string, params?: SqlParam[]): Promise<T | undefined>;
  run(sql: string, params?: SqlParam[]): Promise<{ changes: number }>;
  /**
   * Runs `work` in a transaction. Transactions are serialised across every process that shares
   * the database, so read-then-write sequences (the audit chain, serial numbers) stay consistent.
   */
  transaction<T>(work: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export { openSqlite } from './sqlite.js';
