import { defineConfig } from 'vitest/config';

/**
 * Every test runs on SQLite. The tests whose outcome depends on the storage engine (records,
 * transactions, locks, the audit chain, numbering, clients and their limits, seal registration
 * and revocation, readiness and shutdown of the database) run a second time on a real
 * PostgreSQL that the global setup starts; tests learn their engine from TEST_DATABASE. Tests
 * of PDF mechanics, validation, LTV, crypto, parsers, rendering and Redis run once: the
 * database engine does not change what they test.
 */
const STORAGE_TESTS = [
  'test/store/**/*.test.ts',
  'test/audit/**/*.test.ts',
  // licences: records, numbering, replacement, idempotency, the audit entry, scoping and its
  // access log; their layout, public page, dates and field checks do not depend on the engine
  'test/licenses/issue.test.ts',
  'test/licenses/lifecycle.test.ts',
  'test/licenses/replacement.test.ts',
  'test/licenses/numbers.test.ts',
  'test/licenses/beijing-time.test.ts',
  'test/licenses/idempotency.test.ts',
  'test/licenses/atomic-audit.test.ts',
  'test/licenses/scoping.test.ts',
  'test/seal/registry.test.ts',
  'test/seal/authority.test.ts',
  'test/status/access.test.ts',
  'test/status/status.test.ts',
  'test/status/batch.test.ts',
  'test/ops/readiness.test.ts',
  'test/ops/shutdown.test.ts',
  'test/ops/logs.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // Test files share each worker's loaded modules: loading the service's modules again for
    // every file cost about a third of the run. Nothing a test changes outlives it: services,
    // databases and data dirs are per test, spies are restored, environment changes put back.
    isolate: false,
    // fetch never reuses a connection: see the file
    setupFiles: ['test/helpers/no-keep-alive.ts'],
    // one development PKI for the run, copied into the data dir of each test service (see the file)
    globalSetup: ['test/helpers/dev-pki-template.ts'],
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { TEST_DATABASE: 'sqlite' } } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: STORAGE_TESTS,
          // these bring their own PostgreSQL, to stop it, so one pass is enough
          exclude: ['test/store/postgres-outage.test.ts', 'test/store/postgres-restart.test.ts'],
          env: { TEST_DATABASE: 'postgres' },
          globalSetup: ['test/helpers/dev-pki-template.ts', 'test/helpers/postgres-setup.ts'],
        },
      },
    ],
  },
});
