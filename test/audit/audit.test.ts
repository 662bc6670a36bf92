import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

const run = promisify(execFile);
let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

async function admin(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    // vitest sets BASE_URL=/ for its own use; the CLI must not see it.
    const { BASE_URL: _vitestBase, ...env } = process.env;
    const { stdout } = await run('node_modules/.bin/tsx', ['src/cli/admin.ts', ...args], { env: { ...env, DATA_DIR: svc.dataDir, LOG_LEVEL: 'silent', ...(svc.databaseUrl ? { DATABASE_URL: svc.databaseUrl } : {}) }, encoding: 'utf8' });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe('the audit log', () => {
  it('records sealing, issuance and lookups in a hash chain that the CLI verifies and that breaks when tampered with', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'scjg-official' });
    const auth = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
    const issued = await fetch(`${svc.url}/v1/licenses`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '赵小六', code: '440524188001010014', codeType: '111' }, fields: { matter: '设立登记', applicationNumber: 'SQ1', receivedOn: '2026-11-25', promisedDays: 3 } }),
    });
    expect(issued.status).toBe(201);
    await fetch(`${svc.url}/v1/licenses?holderCode=440524188001010014&purpose=development`, { headers: auth });
    const entries = await svc.service.audit.entries();
    expect(entries.map((e) => e.action).reverse()).toEqual(['seal', 'license.issue', 'license.lookup']);
    const { createHash } = await import('node:crypto');
    expect(entries.at(-1)!.document_sha256).toBe(createHash('sha256').update(sealed).digest('hex'));
    expect(JSON.stringify(entries)).not.toContain('440524188001010014'); // the full ID number is not in the log
    expect(await svc.service.audit.verify()).toEqual({ ok: true, entries: 3 });
    const good = await admin('audit', 'verify');
    expect(good).toEqual({ code: 0, out: 'audit log intact: 3 entries\n' });

    await svc.service.db.run("UPDATE audit_log SET subject = 'another-seal' WHERE seq = 1");
    const broken = await admin('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/BROKEN at entry 1 of 3: entry 1 was changed/);
  });
});

describe('the client CLI', () => {
  it('creates a client whose token works once shown, lists it, and disables it', async () => {
    const created = await admin('clients', 'create', '--name', 'approval system', '--roles', 'seal', '--seals', 'xzsp-official');
    expect(created.code).toBe(0);
    const token = created.out.trim().split('\n').at(-1)!;
    const id = /client (\S+) created/.exec(created.out)![1]!;
    expect((await sealOkWith(token)).status).toBe(200);
    expect((await admin('clients', 'list')).out).toContain('approval system');
    expect((await admin('clients', 'disable', id)).code).toBe(0);
    expect((await sealOkWith(token)).status).toBe(401);
    expect((await admin('clients', 'create', '--name', 'x', '--roles', 'emperor')).code).toBe(2);
  });
});

async function sealOkWith(token: string): Promise<Response> {
  return fetch(`${svc.url}/v1/seal?sealId=xzsp-official`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(await makePdf(1)) });
}
