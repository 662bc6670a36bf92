export type SqlParam = string | number | bigint | Buffer | null;

/** A statement with its `?` parameters. */
export interface Statement {
  sql: string;
  params: SqlParam[];
}

/** What the write step of `readThenWrite` makes of the rows its reads gave. */
export interface WriteStep<T> {
  statements: Statement[];
  value: T;
}

export interface TransactionOptions {
  /**
   * Locks (as `lock` takes them, in this order) held from the transaction's start. On PostgreSQL
   * they are taken together with BEGIN, in one round trip to the server.
   */
  locks?: readonly string[];
}

/**
 * The one query layer, implemented over SQLite and PostgreSQL. SQL uses `?` placeholders and
 * the subset of SQL both engines share (`ON CONFLICT ... DO NOTHING`, `WITH RECURSIVE`, no
 * engine functions), and one function both define: `sha256_hex(text)`, the SHA-256 of the
 * text's UTF-8 bytes in lowercase hex.
 */
export interface Db {
  all<T>(sql: string, params?: SqlParam[]): Promise<T[]>;
  get<T>(sql: string, params?: SqlParam[]): Promise<T | undefined>;
  run(sql: string, params?: SqlParam[]): Promise<{ changes: number }>;
  /**
   * Runs `work` in a transaction. A read-then-write sequence that must not interleave with
   * another instance's (the audit chain, a serial counter) takes its lock with `lock` first.
   */
  transaction<T>(work: (db: Db) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Inside a transaction: waits for the lock named `name` and holds it until the transaction
   * ends, in every process that shares the database. Transactions that take different locks, or
   * none, do not wait for each other on PostgreSQL; on SQLite every transaction already holds
   * the file's write lock, so this adds nothing. Outside a transaction it is an error. Locks are
   * taken in one order wherever a transaction needs several (see docs/ARCHITECTURE.md, store/).
   */
  lock(name: string): Promise<void>;
  /**
   * A transaction of two steps: the `reads` (each gives its rows, in order), then the statements
   * `write` makes of those rows; gives the write step's value. `options.locks` are held from the
   * start. On PostgreSQL, outside a transaction, each step is one message to the server, the
   * first with BEGIN and the locks, the second with COMMIT: two round trips, however many
   * statements. A statement that fails rolls the whole back.
   */
  readThenWrite<T>(reads: readonly Statement[], write: (rows: unknown[][]) => WriteStep<T>, options?: TransactionOptions): Promise<T>;
  /**
   * A transaction of one statement, `options.locks` held from its start; gives the rows it
   * changed. On PostgreSQL, outside a transaction, one message to the server (BEGIN, the locks,
   * the statement and COMMIT): one round trip.
   */
  writeAlone(statement: Statement, options?: TransactionOptions): Promise<{ changes: number }>;
  close(): Promise<void>;
}

export { openSqlite } from './sqlite.js';
