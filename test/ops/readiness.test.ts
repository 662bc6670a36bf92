import { describe, expect, it } from 'vitest';
import { startService } from '../helpers/service.js';

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

/** /readyz as anyone sees it, or with an administrator's token, as the operator sees it. */
async function readyz(url: string, adminToken?: string): Promise<{ code: number; body: Readiness }> {
  const res = await fetch(`${url}/readyz`, adminToken ? { headers: { authorization: `Bearer ${adminToken}` } } : {});
  return { code: res.status, body: (await res.json()) as Readiness };
}

describe('/readyz checks the seal keys', () => {
  it('is ready with every key usable, degraded naming a broken keystore, and not ready when no key opens', async () => {
    const first = await startService();
    const dataDir = first.dataDir;
    try {
      expect(await readyz(first.url)).toEqual({ code: 200, body: { status: 'ready', checks: { database: 'ok', keys: 'ok (5 seals)', statusCache: 'ok' } } });
      await first.service.db.run('UPDATE seal_keystores SET pkcs12 = ? WHERE seal_id = ?', [Buffer.from('not a keystore'), 'xzsp-approval']);
      // a new process has loaded no key yet
      await first.close();
      const second = await startService({}, dataDir);
      try {
        const degraded = await readyz(second.url, second.token);
        expect(degraded.code).toBe(200);
        expect(degraded.body.status).toBe('degraded');
        expect(degraded.body.checks.keys).toMatch(/^degraded: xzsp-approval: /);
        expect(degraded.body.checks.keys).not.toContain('scjg-official');
        // anyone else sees the state, not which seal or why
        const anonymous = await readyz(second.url);
        expect(anonymous).toEqual({ code: 200, body: { status: 'degraded', checks: { database: 'ok', keys: 'degraded (1 of 5 seal keys unusable)', statusCache: 'ok' } } });
        const { token: sealer } = await second.service.clients.create('sealer', ['seal'], []);
        expect((await readyz(second.url, sealer)).body.checks.keys).not.toContain('xzsp-approval');
      } finally {
        await second.close();
      }
      const wrongPassword = await startService({ KEYSTORE_PASSWORD: 'not the password of these keystores' }, dataDir);
      try {
        const down = await readyz(wrongPassword.url, wrongPassword.token);
        expect(down.code).toBe(503);
        expect(down.body.status).toBe('not ready');
        for (const seal of ['scjg-official', 'scjg-approval', 'xzsp-official', 'xzsp-approval', 'zrzy-official']) expect(down.body.checks.keys).toContain(`${seal}: `);
        expect(down.body.checks.keys).not.toContain('not the password');
      } finally {
        await wrongPassword.close();
      }
    } finally {
      await first.close().catch(() => undefined);
    }
  });
});
