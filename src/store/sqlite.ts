import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Db, SqlParam } from './db.js';
import { MIGRATIONS, MIGRATIONS_TABLE, SQLITE_DIALECT } from './migrations.js';

class SqliteDb implements Db {
  readonly engine = 'sqlite';
  private queue: Promise<unknown> = Promise.resolve();
  private inTransaction = false;

  constructor(private readonly sqlite: Database.Database) {}

  async all<T>(sql: string, params: SqlParam[] = []): Promise<T[]> {
    return this.sqlite.prepare(sql).all(...params) as T[];
  }

  async get<T>(sql: string, params: SqlParam[] = []): Promise<T | undefined> {
    return this.sqlite.prepare(sql).get(...params) as T | undefined;
  }

  async run(sql: string, params: SqlParam[] = []): Promise<{ changes: number }> {
    const info = this.sqlite.prepare(sql).run(...params);
    return { changes: info.changes };
  }

  /** One connection cannot interleave two transactions, so they queue; BEGIN IMMEDIATE locks out other processes. */
  transaction<T>(work: (db: Db) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    const result = this.queue.then(async () => {
      this.inTransaction = true;
      this.sqlite.exec('BEGIN IMMEDIATE');
      try {
        const value = await work(this);
        this.sqlite.exec('COMMIT');
        return value;
      } catch (err) {
        this.sqlite.exec('ROLLBACK');
        throw err;
      } finally {
        this.inTransaction = false;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.sqlite.close();
  }

  migrate(): void {
    this.sqlite.exec(MIGRATIONS_TABLE);
    const applied = new Set(
      (this.sqlite.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      this.sqlite.transaction(() => {
        this.sqlite.exec(migration.sql(SQLITE_DIALECT));
        this.sqlite.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, new Date().toISOString());
      })();
    }
  }
}

/** Opens (creating if needed) the SQLite database and brings its schema up to date. */
export function openSqlite(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new SqliteDb(sqlite);
  db.migrate();
  return db;
}
