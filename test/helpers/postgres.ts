import { inject } from 'vitest';
import { createDatabase } from './postgres-server.js';

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
