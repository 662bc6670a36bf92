import path from 'node:path';
import { inject } from 'vitest';
import type { DatabaseTarget } from '../../src/store/open.js';
import { createDatabase } from './postgres-server.js';
import { tempDir } from './tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/** True when this test run is the PostgreSQL pass of the suite. */
export function onPostgres(): boolean {
  return process.env.TEST_DATABASE === 'postgres';
}

/** A fresh database for one test on this run's engine: a PostgreSQL URL, or undefined for SQLite. */
export async function testDatabaseUrl(): Promise<string | undefined> {
  return onPostgres() ? createDatabase(inject('postgresUrl')) : undefined;
}

/** A fresh database for one test on this run's engine: a new PostgreSQL database, or a new SQLite file in a directory named after `name`. */
export async function freshDatabaseTarget(name: string): Promise<DatabaseTarget> {
  const url = await testDatabaseUrl();
  return url ? { kind: 'postgres', url, poolSize: 4 } : { kind: 'sqlite', file: path.join(tempDir(name), 'db.sqlite') };
}
