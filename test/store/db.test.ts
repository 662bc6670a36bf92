import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { Db } from '../../src/store/db.js';
import { DatabaseUnavailableError } from '../../src/store/errors.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openDatabase, type DatabaseTarget } from '../../src/store/open.js';
import { pgLiteral } from '../../src/store/pg-literals.js';
import { inlinePlaceholders, numberPlaceholders } from '../../src/store/placeholders.js';
import { freshDatabaseTarget, onPostgres } from '../helpers/postgres.js';
import { freePort } from '../helpers/redis.js';
import { tempDir } from '../helpers/tools.js';

/** A fresh database on this pass's engine. */
const freshTarget = (): Promise<DatabaseTarget> => freshDatabaseTarget('db');

async function withDb<T>(work: (db: Db, target: DatabaseTarget) => Promise<T>): Promise<T> {
  const target = await freshTarget();
  const db = await openDatabase(target);
  try {
    return await work(db, target);
  } finally {
    await db.close();
  }
}

describe('placeholders', () => {
  it('numbers question marks outside quotes only', () => {
    expect(numberPlaceholders("SELECT ? , '?', \"a?\" , ? WHERE x = 'it''s ?' AND y = ?")).toBe("SELECT $1 , '?', \"a?\" , $2 WHERE x = 'it''s ?' AND y = $3");
  });

  it('writes literals in place of question marks outside quotes, and refuses a count that does not match', () => {
    expect(inlinePlaceholders("SELECT ?, '?' WHERE x = ?", ["'a'", '1'])).toBe("SELECT 'a', '?' WHERE x = 1");
    expect(() => inlinePlaceholders('SELECT ?, ?', ['1'])).toThrow(/more placeholders/);
    expect(() => inlinePlaceholders('SELECT ?', ['1', '2'])).toThrow(/1 placeholders for 2 values/);
  });

  it('writes PostgreSQL literals that cannot end early or start a comment', () => {
    expect(pgLiteral("it's")).toBe("'it''s'");
    expect(pgLiteral('back\\slash')).toBe(" E'back\\\\slash'");
    expect(pgLiteral(null)).toBe('NULL');
    expect(pgLiteral(-5)).toBe('(-5)');
    expect(pgLiteral(-5n)).toBe('(-5)');
    expect(pgLiteral(2.5)).toBe('2.5');
    expect(pgLiteral(Buffer.from([0, 255]))).toBe("decode('00ff', 'hex')");
    expect(() => pgLiteral('nul \0 inside')).toThrow(/NUL/);
    expect(() => pgLiteral(Number.NaN)).toThrow(RangeError);
  });
});

describe(`the query layer on ${onPostgres() ? 'PostgreSQL' : 'SQLite'}`, () => {
  it('round-trips bytes, text, numbers and nulls, and counts come back as numbers', async () => {
    await withDb(async (db) => {
      const png = Buffer.from([0, 1, 2, 255, 0x3f, 0]);
      await db.run(
        `INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ['s1', '某某局?', 'X', 'official', '某某局', 40.1, png, '[]', '{}', 'a', 'b', 'active', 'c'],
      );
      const row = await db.get<{ image_png: Buffer; diameter_mm: number; org_name: string; revoked_at: string | null }>('SELECT * FROM seals WHERE id = ?', ['s1']);
      expect(Buffer.compare(row!.image_png, png)).toBe(0);
      expect(row!.diameter_mm).toBe(40.1);
      expect(row!.org_name).toBe('某某局?');
      expect(row!.revoked_at).toBeNull();
      expect(await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM seals WHERE status = 'active'")).toEqual({ n: 1 });
      expect(await db.get('SELECT * FROM seals WHERE id = ?', ['none'])).toBeUndefined();
      const dup = await db.run("INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at) VALUES ('s1', '', '', '', '', 1, ?, '', '', '', '', '', '') ON CONFLICT (id) DO NOTHING", [png]);
      expect(dup.changes).toBe(0);
    });
  });

  it("computes sha256_hex over the text's UTF-8 bytes, as node:crypto does, in a parameter and in a literal", async () => {
    await withDb(async (db) => {
      const texts = ['', 'abc', '印章 𠮷 😀', 'quote \' " and \\ backslash', 'line\nbreak\ttab', 'separator \u2028', 'control \u0001 \u007f', 'e\u0301', 'ÿ\u0080\u00ff'];
      for (const text of texts) {
        const expected = createHash('sha256').update(text, 'utf8').digest('hex');
        expect(await db.get('SELECT sha256_hex(?) AS hash', [text]), text).toEqual({ hash: expected });
        // As the audit log's one-statement commits send it on PostgreSQL: written into the SQL.
        const literal = await db.readThenWrite([{ sql: 'SELECT sha256_hex(?) AS hash', params: [text] }], (rows) => ({ statements: [], value: rows[0] }));
        expect(literal, text).toEqual([{ hash: expected }]);
      }
      expect(await db.get('SELECT sha256_hex(NULL) AS hash')).toEqual({ hash: null });
    });
  });

  it('reads then writes in one transaction, any text and bytes intact, and rolls it back whole when a write fails', async () => {
    await withDb(async (db) => {
      const awkward = ["quote ' and '' twice", 'back\\slash \\\' E\'', '印章 𠮷 😀 \u2028', 'dollar $1 $$ $tag$ ?', '-- not a comment', 'line\nbreak\ttab \u0001'];
      const insert = (id: string, name: string, png: Buffer) => ({
        sql: `INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at)
              VALUES (?, ?, 'X', 'official', ?, ?, ?, '[]', '{}', 'a', 'b', 'active', 'c')`,
        params: [id, name, name, -1.5, png],
      });
      const png = Buffer.from([0, 1, 0x27, 0x5c, 255]);
      const written = await db.readThenWrite(
        [{ sql: 'SELECT COUNT(*) AS n FROM seals WHERE org_name = ?', params: [awkward[0]!] }, { sql: 'SELECT ? AS echoed', params: [awkward[1]!] }],
        (rows) => ({ statements: awkward.map((name, i) => insert(`rw-${i}`, name, png)), value: rows }),
      );
      expect(written).toEqual([[{ n: 0 }], [{ echoed: awkward[1] }]]);
      const rows = await db.all<{ org_name: string; name: string; diameter_mm: number; image_png: Buffer }>("SELECT org_name, name, diameter_mm, image_png FROM seals WHERE id LIKE 'rw-%' ORDER BY id");
      expect(rows.map((r) => r.org_name)).toEqual(awkward);
      expect(rows.every((r) => r.name === r.org_name && r.diameter_mm === -1.5 && Buffer.compare(r.image_png, png) === 0)).toBe(true);

      await expect(db.readThenWrite([], () => ({ statements: [insert('rw-new', 'new', png), insert('rw-0', 'duplicate', png)], value: undefined }))).rejects.toThrow();
      // PostgreSQL text holds no NUL: refused before it is sent, as a parameter it would be refused by the server
      if (onPostgres()) await expect(db.readThenWrite([], () => ({ statements: [insert('rw-nul', 'nul \0', png)], value: undefined }))).rejects.toThrow(/NUL/);
      expect(await db.get("SELECT id FROM seals WHERE id = 'rw-new'")).toBeUndefined();
      // the pool's connections are usable after the failures
      expect(await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM seals WHERE id LIKE 'rw-%' AND id <> 'rw-nul'")).toEqual({ n: awkward.length });
    });
  });

  it('rolls a failed transaction back whole', async () => {
    await withDb(async (db) => {
      await expect(
        db.transaction(async (tx) => {
          await tx.run("INSERT INTO api_clients (id, name, token_hash, roles, created_at) VALUES ('c1', 'n', 'h1', 'seal', 'now')");
          await tx.run("INSERT INTO api_clients (id, name, token_hash, roles, created_at) VALUES ('c2', 'n', 'h1', 'seal', 'now')"); // same token hash: unique violation
        }),
      ).rejects.toThrow();
      expect(await db.all('SELECT id FROM api_clients')).toEqual([]);
    });
  });

  it('serialises transactions that take one lock, so read-then-write sequences never interleave', async () => {
    const target = await freshTarget();
    // Two connections (two pools for PostgreSQL), as two instances have.
    const first = await openDatabase(target);
    const second = await openDatabase(target);
    try {
      await first.run("INSERT INTO license_lookups (client_id, holder_code, purpose, results, looked_up_at) VALUES ('counter', 'x', 'p', 0, 'now')");
      const bump = (db: Db) =>
        db.transaction(async (tx) => {
          await tx.lock('counter');
          const row = await tx.get<{ results: number }>("SELECT results FROM license_lookups WHERE client_id = 'counter'");
          await new Promise((r) => setTimeout(r, 2));
          await tx.run("UPDATE license_lookups SET results = ? WHERE client_id = 'counter'", [row!.results + 1]);
        });
      await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? first : second)));
      expect(await first.get("SELECT results FROM license_lookups WHERE client_id = 'counter'")).toEqual({ results: 20 });
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('keeps statements from outside out of a running transaction', async () => {
    await withDb(async (db) => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const failing = db.transaction(async (tx) => {
        await tx.run("INSERT INTO api_clients (id, name, token_hash, roles, created_at) VALUES ('inside', 'n', 'h-in', 'seal', 'now')");
        await held;
        throw new Error('the transaction fails');
      });
      // issued while the transaction is open: it must neither join nor be rolled back with it
      const outside = db.run("INSERT INTO api_clients (id, name, token_hash, roles, created_at) VALUES ('outside', 'n', 'h-out', 'seal', 'now')");
      release();
      await expect(failing).rejects.toThrow('the transaction fails');
      await outside;
      expect(await db.all('SELECT id FROM api_clients')).toEqual([{ id: 'outside' }]);
    });
  });

  it.skipIf(onPostgres())('answers DatabaseUnavailableError, not a raw SQLite error, when another process keeps the file locked', async () => {
    const file = path.join(tempDir('locked'), 'db.sqlite');
    const db = await openDatabase({ kind: 'sqlite', file });
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const failure = await db.run("INSERT INTO service_secrets (name, value) VALUES ('a', 'b')").catch((e: Error) => e);
      expect(failure).toBeInstanceOf(DatabaseUnavailableError);
      other.exec('ROLLBACK');
      expect((await db.run("INSERT INTO service_secrets (name, value) VALUES ('a', 'b')")).changes).toBe(1);
    } finally {
      other.close();
      await db.close();
    }
  });

  it('migrates once even when several instances start at the same moment', async () => {
    const target = await freshTarget();
    const dbs = await Promise.all([openDatabase(target), openDatabase(target), openDatabase(target)]);
    try {
      const versions = await dbs[0]!.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      for (const db of dbs) await db.close();
    }
  });
});

describe('database configuration', () => {
  it('takes file: and postgres: URLs and refuses anything else', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/eseal' }).database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/eseal', poolSize: 10 });
    expect(loadConfig({ DATABASE_URL: 'file:/var/lib/eseal/db.sqlite' }).database).toEqual({ kind: 'sqlite', file: '/var/lib/eseal/db.sqlite' });
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:p@db/eseal' })).toThrow(ConfigError);
  });

  it('says clearly when PostgreSQL cannot be reached, without the password', async () => {
    const port = await freePort();
    const failure = await openDatabase({ kind: 'postgres', url: `postgres://eseal:hunter2secret@127.0.0.1:${port}/eseal`, poolSize: 1 }).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('DatabaseUnavailableError');
    expect((failure as Error).message).toMatch(/^PostgreSQL: .*ECONNREFUSED/);
    expect((failure as Error).message).not.toContain('hunter2secret');
  });
});
