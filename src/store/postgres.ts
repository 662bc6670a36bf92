import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Db, SqlParam, Statement, TransactionOptions, WriteStep } from './db.js';
import { MIGRATIONS, MIGRATIONS_TABLE, POSTGRES_DIALECT } from './migrations.js';
import { DatabaseUnavailableError, isConnectionFailure } from './errors.js';
import { pgLiteral } from './pg-literals.js';
import { inlinePlaceholders, numberPlaceholders } from './placeholders.js';
import { readThenWriteIn } from './read-then-write.js';

const INT8_OID = 20;
/** Held while the schema is brought up to date, so instances starting together migrate once. */
const MIGRATIONS_LOCK = 'schema-migrations';

/**
 * The advisory lock key of a named lock: 64 bits of a hash of the name, in a namespace of this
 * service's own, so any name maps to one key and distinct names practically never share one.
 */
export function advisoryLockKey(name: string): string {
  return createHash('sha256').update(`eseal:${name}`).digest().readBigInt64BE(0).toString();
}

/** Counts and sequence numbers come back as numbers, as from SQLite; they stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

type Queryable = Pick<pg.Pool, 'query'>;

function toPgParams(params: SqlParam[]): unknown[] {
  return params.map((p) => (typeof p === 'bigint' ? p.toString() : p));
}

class PostgresDb implements Db {
  constructor(
    private readonly pool: pg.Pool,
    /** Set while inside a transaction: every query goes to its connection. */
    private readonly client?: pg.PoolClient,
  ) {}

  private async query(sql: string, params: SqlParam[]): Promise<pg.QueryResult> {
    const target: Queryable = this.client ?? this.pool;
    try {
      return await target.query(numberPlaceholders(sql), toPgParams(params));
    } catch (err) {
      throw unavailableOr(err);
    }
  }

  async all<T>(sql: string, params: SqlParam[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params: SqlParam[] = []): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params: SqlParam[] = []): Promise<{ changes: number }> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(work: (db: Db) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const locks = options.locks ?? [];
    if (this.client) {
      for (const name of locks) await this.lock(name);
      return work(this);
    }
    return withTransaction(this.pool, (client) => work(new PostgresDb(this.pool, client)), locks);
  }

  async readThenWrite<T>(reads: readonly Statement[], write: (rows: unknown[][]) => WriteStep<T>, options: TransactionOptions = {}): Promise<T> {
    const locks = options.locks ?? [];
    if (this.client) {
      for (const name of locks) await this.lock(name);
      return readThenWriteIn(this, reads, write);
    }
    return inTransaction(this.pool, async (client) => {
      // Statements after BEGIN in one message run in the transaction it opens, each with a
      // snapshot of its own, taken after the locks before it were granted.
      const opened = await client.query([beginWithLocks(locks), ...reads.map(inlined)].join(';\n'));
      const results = Array.isArray(opened) ? opened : [opened];
      const { statements, value } = write(results.slice(1 + locks.length).map((result: pg.QueryResult) => result.rows));
      await client.query([...statements.map(inlined), 'COMMIT'].join(';\n'));
      return value;
    });
  }

  async writeAlone(statement: Statement, options: TransactionOptions = {}): Promise<{ changes: number }> {
    const locks = options.locks ?? [];
    if (this.client) {
      for (const name of locks) await this.lock(name);
      return this.run(statement.sql, statement.params);
    }
    return inTransaction(this.pool, async (client) => {
      const results = (await client.query([beginWithLocks(locks), inlined(statement), 'COMMIT'].join(';\n'))) as unknown as pg.QueryResult[];
      return { changes: results[1 + locks.length]!.rowCount ?? 0 };
    });
  }

  async lock(name: string): Promise<void> {
    if (!this.client) throw new Error(`the lock ${name} is held by a transaction: take it inside transaction()`);
    await this.query('SELECT pg_advisory_xact_lock(?::bigint)', [advisoryLockKey(name)]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Connection failures become DatabaseUnavailableError; statement errors stay as they are. */
function unavailableOr(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError || !isConnectionFailure(err)) return err;
  return new DatabaseUnavailableError(`PostgreSQL: ${(err as Error).message}`);
}

/**
 * BEGIN and the advisory locks in one simple-protocol query: one round trip where each would
 * cost one. The keys are numbers this module computes (`advisoryLockKey`), written as literals.
 */
function beginWithLocks(locks: readonly string[]): string {
  return ['BEGIN', ...locks.map((name) => `SELECT pg_advisory_xact_lock('${advisoryLockKey(name)}'::bigint)`)].join('; ');
}

/** A statement with its parameters written in, for a message of several (`pg-literals.ts`). */
function inlined({ sql, params }: Statement): string {
  return inlinePlaceholders(sql, params.map(pgLiteral));
}

async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, locks: readonly string[] = []): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query(beginWithLocks(locks));
    const value = await work(client);
    await client.query('COMMIT');
    return value;
  });
}

/**
 * Runs `work`, which opens and commits a transaction, on a connection of its own; rolls back
 * when it fails, and closes a connection that broke rather than hand it to the next.
 */
async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((err: unknown) => {
    throw unavailableOr(err);
  });
  let broken: Error | undefined;
  // A connection the server drops while it is checked out emits 'error' on the client (the pool
  // listens only to idle ones): without a listener that would end the process. The query in
  // flight fails as well, and that failure is what the caller sees.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    // A connection that failed is closed rather than handed to the next transaction.
    if (isConnectionFailure(err)) broken = err as Error;
    throw unavailableOr(err);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(MIGRATIONS_LOCK)]);
    await client.query(MIGRATIONS_TABLE);
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql(POSTGRES_DIALECT));
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, new Date().toISOString()]);
    }
  });
}

/** Connects a pool to PostgreSQL and brings the schema up to date (safely when several instances start at once). */
export async function openPostgres(url: string, poolSize = 10): Promise<Db> {
  // A stalled server must not hold requests forever: statements and connects are bounded.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 10_000, statement_timeout: 30_000, query_timeout: 35_000 });
  // An idle connection that the server drops must not crash the process.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(`PostgreSQL: ${(err as Error).message}`);
  }
  return new PostgresDb(pool);
}
