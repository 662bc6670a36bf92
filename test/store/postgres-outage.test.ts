import { describe, expect, it } from 'vitest';
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
});
