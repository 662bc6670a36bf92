import type { Db } from './db.js';
import { openSqlite } from './db.js';

/** Where the service keeps its records: a SQLite file, or a PostgreSQL server. */
export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** Opens the database and brings its schema up to date. */
export async function openDatabase(target: DatabaseTarget): Promise<Db> {
  if (target.kind === 'sqlite') return openSqlite(target.file);
  throw new Error('PostgreSQL is not available in this build');
}
