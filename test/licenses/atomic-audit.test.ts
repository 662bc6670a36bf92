/**
 * A licence and its audit entry are committed together: when the audit entry cannot be written,
 * no licence exists either (so no licence is ever valid without its record of who issued it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleBusinessLicence } from '../helpers/licences.js';
import { startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

const licence = sampleBusinessLicence();

const issue = (): Promise<Response> =>
  fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' }, body: JSON.stringify(licence) });

const count = async (table: string): Promise<number> => (await svc.service.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n;

describe('a licence and its audit entry', () => {
  it('are written together, or not at all', async () => {
    const ok = await issue();
    expect(ok.status, await ok.clone().text()).toBe(201);
    const { id } = (await ok.json()) as { id: string };
    const entries = await svc.service.audit.entries();
    expect(entries.filter((e) => e.action === 'license.issue' && e.subject === id)).toHaveLength(1);

    const licences = Number(await count('licenses'));
    // the audit log refuses new entries (a trigger standing in for a failure after the licence row)
    await svc.service.db.run(
      svc.databaseUrl
        ? "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql"
        : "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END",
    );
    if (svc.databaseUrl) await svc.service.db.run('CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()');
    try {
      const refused = await issue();
      expect(refused.status).toBeGreaterThanOrEqual(500);
      expect(Number(await count('licenses'))).toBe(licences);
    } finally {
      await svc.service.db.run(svc.databaseUrl ? 'DROP TRIGGER refuse_audit ON audit_log' : 'DROP TRIGGER refuse_audit');
    }
    expect((await issue()).status).toBe(201);
    expect(await svc.service.audit.verify()).toMatchObject({ ok: true });
  });
});
