import { defineConfig } from 'vitest/config';

/**
 * Every test that starts the service or touches the database runs twice: once on SQLite, once
 * on a real PostgreSQL that the global setup starts. Tests learn their engine from
 * TEST_DATABASE. Parser, crypto, rendering and token tests never touch storage and run once.
 */
const STORAGE_TESTS = ['store', 'seal', 'licenses', 'audit', 'ops', 'status', 'ltv', 'validation'].map((dir) => `test/${dir}/**/*.test.ts`);

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
          // brings its own PostgreSQL, to stop it, so one pass is enough; the parser fuzzers use
          // the service only to seal their seed files, and storage does not change what they test
          exclude: ['test/store/postgres-outage.test.ts', 'test/store/postgres-restart.test.ts', 'test/validation/hostile.test.ts', 'test/ops/fuzz-parsers.test.ts'],
          env: { TEST_DATABASE: 'postgres' },
          globalSetup: ['test/helpers/postgres-setup.ts'],
        },
      },
    ],
  },
});
