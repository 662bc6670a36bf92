import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type SqlParam = string | number | bigint | Buffer | null;

/**
 * The one query layer: asynchronous so a PostgreSQL pool can implement it too. SQL uses `?`
 * placeholders and the portable subset of SQL both engines share.
 */
export interface Db {
  all<T>(sql: string, params?: SqlParam[]): Promise<T[]>;
  get<T>(sql: string, params?: SqlParam[]): Promise<T | undefined>;
  run(sql: string, params?: SqlParam[]): Promise<{ changes: number }>;
  transaction<T>(work: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

interface Migration {
  version: number;
  sql: string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE seals (
        id TEXT PRIMARY KEY,
        org_name TEXT NOT NULL,
        org_uscc TEXT NOT NULL,
        seal_type TEXT NOT NULL,
        name TEXT NOT NULL,
        diameter_mm REAL NOT NULL,
        image_png BLOB NOT NULL,
        cert_chain_pem TEXT NOT NULL,
        key_ref TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE api_clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        roles TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      );
      CREATE TABLE client_seals (
        client_id TEXT NOT NULL REFERENCES api_clients(id),
        seal_id TEXT NOT NULL REFERENCES seals(id),
        PRIMARY KEY (client_id, seal_id)
      );
    `,
  },
  {
    version: 2,
    sql: `
      ALTER TABLE seals ADD COLUMN revoked_at TEXT;
      ALTER TABLE seals ADD COLUMN revocation_reason INTEGER;
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE licenses (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        number TEXT NOT NULL,
        serial TEXT NOT NULL,
        version TEXT NOT NULL,
        holder_name TEXT NOT NULL,
        holder_code TEXT NOT NULL,
        fields TEXT NOT NULL,
        issuer_name TEXT NOT NULL,
        issuer_code TEXT NOT NULL,
        seal_id TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        valid_from TEXT,
        valid_until TEXT,
        status TEXT NOT NULL,
        check_code TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        pdf BLOB NOT NULL
      );
      CREATE INDEX licenses_holder ON licenses (holder_code);
      CREATE UNIQUE INDEX licenses_serial ON licenses (type, serial, version);
    `,
  },
  {
    version: 4,
    sql: `
      ALTER TABLE licenses ADD COLUMN revoked_at TEXT;
      ALTER TABLE licenses ADD COLUMN revoke_reason TEXT;
      ALTER TABLE licenses ADD COLUMN superseded_by TEXT;
      CREATE INDEX licenses_sha256 ON licenses (sha256);
    `,
  },
  {
    version: 5,
    sql: `
      CREATE TABLE license_lookups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL,
        holder_code TEXT NOT NULL,
        purpose TEXT NOT NULL,
        results INTEGER NOT NULL,
        looked_up_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    sql: `
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        document_sha256 TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
    `,
  },
];

class SqliteDb implements Db {
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

  /** Transactions are serialised: one connection cannot interleave two of them. */
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
    this.sqlite.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const applied = new Set(
      (this.sqlite.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
    );
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      this.sqlite.transaction(() => {
        this.sqlite.exec(migration.sql);
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
