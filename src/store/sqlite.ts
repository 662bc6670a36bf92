import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Db, SqlParam, Statement, TransactionOptions, WriteStep } from './db.js';
import { DatabaseUnavailableError } from './errors.js';
import { MIGRATIONS, MIGRATIONS_TABLE, SQLITE_DIALECT } from './migrations.js';
import { readThenWriteIn } from './read-then-write.js';

/** How long a statement waits for another connection's write lock before it fails. */
const BUSY_WAIT_MS = 5_000;

/**
 * Runs a statement, waiting asynchronously while another connection holds the write lock.
 * SQLite's own busy timeout would wait synchronously, freezing the event loop, and, with two
 * connections in one process, waiting for a transaction that only the frozen loop can finish.
 */
async function whenNotBusy<T>(statement: () => T): Promise<T> {
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    try {
      return statement();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      if (Date.now() - started > BUSY_WAIT_MS) throw new DatabaseUnavailableError(`SQLite: another process has held the database locked for ${BUSY_WAIT_MS / 1000} s`);
      // Another service process's commit holds the lock for a fraction of a millisecond: tried
      // again after this turn of the event loop first, then after 1, 2, 4 ... 50 ms.
      await new Promise((resolve) => (tries === 1 ? setImmediate(resolve) : setTimeout(resolve, Math.min(2 ** (tries - 2), 50))));
    }
  }
}

/** Prepared statements kept per connection: the service runs a few dozen distinct statements. */
const MAX_PREPARED = 256;
const preparedByConnection = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** The connection's prepared statement for `sql`, compiled on first use: compiling costs more than running most of them. */
function prepared(sqlite: Database.Database, sql: string): Database.Statement {
  let statements = preparedByConnection.get(sqlite);
  if (!statements) preparedByConnection.set(sqlite, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) {
    statement = sqlite.prepare(sql);
    if (statements.size >= MAX_PREPARED) statements.delete(statements.keys().next().value!);
    statements.set(sql, statement);
  }
  return statement;
}

/** Statements on the connection itself, for the transaction that holds it. */
abstract class SqliteStatements {
  constructor(protected readonly sqlite: Database.Database) {}

  protected allNow<T>(sql: string, params: SqlParam[]): Promise<T[]> {
    return whenNotBusy(() => prepared(this.sqlite, sql).all(...params) as T[]);
  }

  protected getNow<T>(sql: string, params: SqlParam[]): Promise<T | undefined> {
    return whenNotBusy(() => prepared(this.sqlite, sql).get(...params) as T | undefined);
  }

  protected runNow(sql: string, params: SqlParam[]): Promise<{ changes: number }> {
    return whenNotBusy(() => ({ changes: prepared(this.sqlite, sql).run(...params).changes }));
  }

  abstract transaction<T>(work: (db: Db) => Promise<T>, options?: TransactionOptions): Promise<T>;

  readThenWrite<T>(reads: readonly Statement[], write: (rows: unknown[][]) => WriteStep<T>, options?: TransactionOptions): Promise<T> {
    return this.transaction((tx) => readThenWriteIn(tx, reads, write), options);
  }

  writeAlone({ sql, params }: Statement, options?: TransactionOptions): Promise<{ changes: number }> {
    return this.transaction((tx) => tx.run(sql, params), options);
  }
}

/** The view of the connection that a transaction's work gets: a nested transaction joins it. */
class SqliteTransaction extends SqliteStatements implements Db {
  all<T>(sql: string, params: SqlParam[] = []): Promise<T[]> {
    return this.allNow(sql, params);
  }
  get<T>(sql: string, params: SqlParam[] = []): Promise<T | undefined> {
    return this.getNow(sql, params);
  }
  run(sql: string, params: SqlParam[] = []): Promise<{ changes: number }> {
    return this.runNow(sql, params);
  }
  /** Nested: the locks asked for are held already (BEGIN IMMEDIATE holds the file's write lock). */
  transaction<T>(work: (db: Db) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    return work(this);
  }
  /** BEGIN IMMEDIATE took the file's write lock: nothing else writes until this transaction ends. */
  async lock(): Promise<void> {}
  async close(): Promise<void> {
    throw new Error('a transaction cannot close the database');
  }
}

/**
 * One connection runs one transaction at a time, so transactions queue, and statements from
 * outside wait for the running transaction rather than slip into it. BEGIN IMMEDIATE takes the
 * file's write lock, which is what serialises other processes.
 */
class SqliteDb extends SqliteStatements implements Db {
  private queue: Promise<unknown> = Promise.resolve();
  private active = 0;

  private afterTransactions(): Promise<unknown> {
    return this.active > 0 ? this.queue : Promise.resolve();
  }

  async all<T>(sql: string, params: SqlParam[] = []): Promise<T[]> {
    await this.afterTransactions();
    return this.allNow(sql, params);
  }

  async get<T>(sql: string, params: SqlParam[] = []): Promise<T | undefined> {
    await this.afterTransactions();
    return this.getNow(sql, params);
  }

  async run(sql: string, params: SqlParam[] = []): Promise<{ changes: number }> {
    await this.afterTransactions();
    return this.runNow(sql, params);
  }

  /** Named locks add nothing here: BEGIN IMMEDIATE holds the file's write lock, which every other writer waits for. */
  transaction<T>(work: (db: Db) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    this.active++;
    const result = this.queue.then(async () => {
      await whenNotBusy(() => this.sqlite.exec('BEGIN IMMEDIATE'));
      try {
        const value = await work(new SqliteTransaction(this.sqlite));
        this.sqlite.exec('COMMIT');
        return value;
      } catch (err) {
        this.sqlite.exec('ROLLBACK');
        throw err;
      }
    });
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queue = settled.then(() => {
      this.active--;
    });
    return result;
  }

  async lock(name: string): Promise<void> {
    throw new Error(`the lock ${name} is held by a transaction: take it inside transaction()`);
  }

  async close(): Promise<void> {
    this.sqlite.close();
  }

  /** Brings the schema up to date in one immediate transaction, so processes starting together migrate once. */
  migrate(): void {
    const migrateAll = this.sqlite.transaction(() => {
      this.sqlite.exec(MIGRATIONS_TABLE);
      const applied = new Set((this.sqlite.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        this.sqlite.exec(migration.sql(SQLITE_DIALECT));
        this.sqlite.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, new Date().toISOString());
      }
    });
    migrateAll.immediate();
  }
}

/** Opens (creating if needed) the SQLite database and brings its schema up to date. */
export function openSqlite(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // The database holds the licences' check-code key and holders' personal data: owner only,
    // whatever the directory's mode or the umask. SQLite gives its -wal and -shm files the
    // main file's mode, so the main file is made 600 before SQLite opens it.
    closeSync(openSync(file, 'a', 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  }
  const sqlite = new Database(file);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  // PostgreSQL's is defined by a migration (`Dialect.sha256HexFunction`); NULL gives NULL there too.
  sqlite.function('sha256_hex', { deterministic: true }, (input: unknown) => (input === null ? null : createHash('sha256').update(String(input)).digest('hex')));
  // Opening and migrating (above and here) may wait synchronously for another process; from
  // then on waiting is done by whenNotBusy, off the event loop.
  const db = new SqliteDb(sqlite);
  db.migrate();
  sqlite.pragma('busy_timeout = 0');
  return db;
}
