import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/open.js';
import { sharedSecret } from '../../src/store/shared-secrets.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

async function issueNotice(svc: RunningService): Promise<{ id: string; verificationUrl: string }> {
  const res = await fetch(`${svc.url}/v1/licenses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '赵小六', code: '440524188001010014', codeType: '111' }, fields: { matter: '设立登记', applicationNumber: 'SQ1', receivedOn: '2026-11-25', promisedDays: 3 } }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; verificationUrl: string };
}

const checkCodeOf = (url: string) => new URL(url).searchParams.get('c');
const hmacCode = (secret: string, id: string) => createHmac('sha256', secret).update(id).digest('base64url').slice(0, 10);

describe('the license check-code secret', () => {
  it('is made once per database and read back the same by every connection', async () => {
    const url = await testDatabaseUrl();
    const target = url ? ({ kind: 'postgres', url, poolSize: 2 } as const) : ({ kind: 'sqlite', file: path.join(tempDir('secret'), 'db.sqlite') } as const);
    const [one, two] = [await openDatabase(target), await openDatabase(target)];
    try {
      const [a, b] = await Promise.all([sharedSecret(one, 'x'), sharedSecret(two, 'x')]);
      expect(a).toBe(b);
      expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await sharedSecret(one, 'y')).not.toBe(a);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('comes from LICENSE_SECRET, else from the file of an older data dir, else from the database', async () => {
    const configured = await startService({ LICENSE_SECRET: 'a configured secret of at least thirty-two characters' });
    const legacyDir = tempDir('legacy');
    writeFileSync(path.join(legacyDir, 'license-secret'), 'the secret an earlier version wrote into the data dir\n');
    const legacy = await startService({}, legacyDir);
    const fresh = await startService();
    try {
      const fromEnv = await issueNotice(configured);
      expect(checkCodeOf(fromEnv.verificationUrl)).toBe(hmacCode('a configured secret of at least thirty-two characters', fromEnv.id));
      const fromFile = await issueNotice(legacy);
      expect(checkCodeOf(fromFile.verificationUrl)).toBe(hmacCode('the secret an earlier version wrote into the data dir', fromFile.id));
      const fromDb = await issueNotice(fresh);
      const stored = await fresh.service.db.get<{ value: string }>("SELECT value FROM service_secrets WHERE name = 'license-check-code'");
      expect(checkCodeOf(fromDb.verificationUrl)).toBe(hmacCode(stored!.value, fromDb.id));
    } finally {
      await configured.close();
      await legacy.close();
      await fresh.close();
    }
  });
});
