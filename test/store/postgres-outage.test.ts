import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres.js';
import { DatabaseUnavailableError } from '../../src/store/errors.js';
import { makePdf } from '../helpers/pdfs.js';
import { createDatabase, PostgresProcess } from '../helpers/postgres-server.js';
import { sealOk, sealRequest, startService } from '../helpers/service.js';

/** A PostgreSQL of this test's own, so stopping it disturbs no other test. */
describe('when PostgreSQL goes away', () => {
  it('answers 503 problem+json and a not-ready /readyz, and recovers when the database is back', async () => {
    const server = await PostgresProcess.start();
    const svc = await startService({ DATABASE_URL: await createDatabase(server.url) });
    try {
      const pdf = await makePdf(1);
      await sealOk(svc, pdf, { sealId: 'scjg-official' });
      await server.pause();

      const refused = await sealRequest(svc, pdf, { sealId: 'scjg-official' });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { type: string }).type).toBe('/problems/database-unavailable');
      const ready = await fetch(`${svc.url}/readyz`);
      expect(ready.status).toBe(503);
      // the state only: the reason (which host, which error) goes to the log, not to the public
      expect(((await ready.json()) as { checks: { database: string } }).checks.database).toBe('failed');
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);

      await server.startAgain();
      await sealOk(svc, pdf, { sealId: 'scjg-official' });
      expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
      expect(await svc.service.audit.verify()).toEqual({ ok: true, entries: 2 });
    } finally {
      await svc.close();
      await server.stop();
    }
  });

  it('survives a connection dropped in the middle of a transaction: the transaction fails as unavailable, the process lives on', async () => {
    const server = await PostgresProcess.start();
    const url = await createDatabase(server.url);
    const db = await openPostgres(url);
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    try {
      const inFlight = db.transaction(async (tx) => {
        await tx.get('SELECT pg_sleep(30)');
      });
      // the transaction's backend is terminated by the server while its statement runs
      let terminated = 0;
      for (let tries = 0; tries < 50 && terminated === 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const result = await killer.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()");
        terminated = result.rowCount ?? 0;
      }
      expect(terminated).toBe(1);
      await expect(inFlight).rejects.toBeInstanceOf(DatabaseUnavailableError);
      // and the pool goes on with a fresh connection
      await expect(db.transaction(async (tx) => tx.get<{ one: number }>('SELECT 1 AS one'))).resolves.toEqual({ one: 1 });
    } finally {
      await killer.end().catch(() => undefined);
      await db.close();
      await server.stop();
    }
  });
});

