import { defineConfig } from 'vitest/config';

/**
 * The suite runs twice where storage matters: once on SQLite, once on a real PostgreSQL that
 * the global setup starts. Tests learn their engine from TEST_DATABASE.
 */
const STORAGE_TESTS = ['test/store/**/*.test.ts', 'test/seal/**/*.test.ts', 'test/licenses/**/*.test.ts', 'test/audit/**/*.test.ts', 'test/ops/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { TEST_DATABASE: 'sqlite' } } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: STORAGE_TESTS,
          // brings its own PostgreSQL, to stop it, so one pass is enough
          exclude: ['test/store/postgres-outage.test.ts'],
          env: { TEST_DATABASE: 'postgres' },
          globalSetup: ['test/helpers/postgres-setup.ts'],
        },
      },
    ],
  },
});
