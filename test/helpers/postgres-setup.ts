import type { TestProject } from 'vitest/node';
import { PostgresProcess } from './postgres-server.js';

/** Global setup of the PostgreSQL pass: one server for the whole run, a database per test. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await PostgresProcess.start();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
