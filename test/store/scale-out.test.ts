import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSealCertificate } from '../../src/devpki/issue.js';
import { readPkcs12, writePkcs12 } from '../../src/pki/pfx.js';
import { makePdf } from '../helpers/pdfs.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { RedisProcess } from '../helpers/redis.js';
import { sealOk, sealRequest, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, tempDir, writeTemp } from '../helpers/tools.js';

/**
 * Two instances behind one address share the database and Redis but not their data dirs: what
 * one registers, issues, revokes or disables, the other sees at once.
 */
let redis: RedisProcess;
let a: RunningService;
let b: RunningService;

beforeAll(async () => {
  redis = await RedisProcess.start();
  const shared = {
    DATABASE_URL: (await testDatabaseUrl()) ?? `file:${path.join(tempDir('shared-db'), 'eseal.sqlite')}`,
    REDIS_URL: redis.url,
    KEYSTORE_PASSWORD: 'one keystore password for all instances',
    // no LICENSE_SECRET: the instances share the check-code key the database keeps
  };
  a = await startService(shared);
  b = await startService({ ...shared, DEV_PKI: 'false', TRUST_ANCHORS: path.join(a.dataDir, 'pki', 'root.pem') });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await redis?.stop();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

/** A new seal certificate of the development seal CA for the organisation, in a PKCS#12 file. */
async function sealPkcs12(orgName: string, uscc: string): Promise<Buffer> {
  const pki = path.join(a.dataDir, 'pki');
  const { privateKey, chainDer } = readPkcs12(readFileSync(path.join(pki, 'seal-ca.p12')), readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim());
  const seal = await issueSealCertificate({ orgName, uscc, sealName: '合同专用章', sealTypes: ['contract'], keyKind: 'ec', baseUrl: a.url }, { certDer: chainDer[0]!, privateKey });
  return writePkcs12({ privateKey: seal.privateKey, chainDer: [seal.certDer, ...chainDer], password: 'transfer' });
}

describe('two instances sharing the database and Redis', () => {
  it('a seal registered on one signs on the other, and a seal revoked on one is refused by the other', async () => {
    const registered = await fetch(`${b.url}/v1/seals`, {
      method: 'POST',
      headers: auth(a.token),
      body: JSON.stringify({ id: 'shared-contract', orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract', pkcs12: (await sealPkcs12('某某市财政局', '11370500MB0100003P')).toString('base64'), password: 'transfer' }),
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const sealed = await sealOk(a, await makePdf(1), { sealId: 'shared-contract' });
    const sig = pdfsig(writeTemp('shared.pdf', sealed), nssDbWithRoot(a.rootPem))[0]!;
    expect(sig.signatureValid && sig.certificateTrusted, sig.raw).toBe(true);

    const revoked = await fetch(`${a.url}/v1/seals/shared-contract/revoke`, { method: 'POST', headers: auth(a.token), body: '{}' });
    expect(revoked.status).toBe(200);
    const refused = await sealRequest(b, await makePdf(1), { sealId: 'shared-contract' }, a.token);
    expect(refused.status).toBe(409);
  });

  it('registers one certificate once when both instances are asked at the same moment', async () => {
    const pkcs12 = (await sealPkcs12('某某市财政局', '11370500MB0100003P')).toString('base64');
    const register = (svc: RunningService, id: string) =>
      fetch(`${svc.url}/v1/seals`, { method: 'POST', headers: auth(a.token), body: JSON.stringify({ id, orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract', pkcs12, password: 'transfer' }) });
    const raced = await Promise.all([register(a, 'race-on-a'), register(b, 'race-on-b')]);
    expect(raced.map((r) => r.status).sort()).toEqual([201, 422]);
    const refused = raced.find((r) => r.status === 422)!;
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/already registered as the seal "race-on-[ab]"/);
  });

  it('a license issued on one is found and revoked on the other, and its QR page says so on both', async () => {
    const issued = await fetch(`${a.url}/v1/licenses`, {
      method: 'POST',
      headers: auth(a.token),
      body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '赵小六', code: '440524188001010014', codeType: '111' }, fields: { matter: '设立登记', applicationNumber: 'SQ9', receivedOn: '2026-11-25', promisedDays: 3 } }),
    });
    expect(issued.status, await issued.clone().text()).toBe(201);
    const license = (await issued.json()) as { id: string; verificationUrl: string };
    const onB = await fetch(`${b.url}/v1/licenses/${encodeURIComponent(license.id)}?purpose=development`, { headers: auth(a.token) });
    expect(onB.status).toBe(200);
    const qr = new URL(license.verificationUrl);
    const page = async (svc: RunningService) => (await fetch(`${svc.url}${qr.pathname}${qr.search}`)).text();
    expect(await page(b)).toContain('真实有效');
    const revoke = await fetch(`${b.url}/v1/licenses/${encodeURIComponent(license.id)}/revoke`, { method: 'POST', headers: auth(a.token), body: JSON.stringify({ reason: '申请人撤回申请' }) });
    expect(revoke.status).toBe(200);
    expect(await page(a)).not.toContain('真实有效');
    expect(await page(a)).toBe(await page(b));
  });

  it('issues licenses on both at once with distinct serial numbers, and lets only one of two racing replacements win', async () => {
    const issue = (svc: RunningService, i: number) =>
      fetch(`${svc.url}/v1/licenses`, {
        method: 'POST',
        headers: auth(a.token),
        body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '赵小六', code: '440524188001010014', codeType: '111' }, fields: { matter: '设立登记', applicationNumber: `SQ-${i}`, receivedOn: '2026-11-25', promisedDays: 3 } }),
      });
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => issue(i % 2 ? a : b, i)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    const numbers = await Promise.all(responses.map(async (r) => ((await r.json()) as { number: string }).number));
    expect(new Set(numbers).size).toBe(8);

    // A counter that is lost (or predates the counter table) restarts after the highest serial.
    await a.service.db.run('DELETE FROM license_number_serials');
    const after = (await (await issue(a, 99)).json()) as { number: string };
    expect(numbers).not.toContain(after.number);
    expect(after.number > [...numbers].sort().at(-1)!).toBe(true);

    const target = (await (await issue(b, 100)).json()) as { id: string };
    const replace = (svc: RunningService) =>
      fetch(`${svc.url}/v1/licenses/${encodeURIComponent(target.id)}/replace`, { method: 'POST', headers: auth(a.token), body: JSON.stringify({ reason: '申请事项变更', fields: { matter: '变更登记', applicationNumber: 'SQ-R', receivedOn: '2026-11-25', promisedDays: 5 } }) });
    const raced = await Promise.all([replace(a), replace(b)]);
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('a client disabled on one is refused by the other', async () => {
    const { client, token } = await a.service.clients.create('shared client', ['seal'], ['scjg-official']);
    expect((await sealRequest(b, await makePdf(1), { sealId: 'scjg-official' }, token)).status).toBe(200);
    expect(await b.service.clients.disable(client.id)).toBe(true);
    expect((await sealRequest(a, await makePdf(1), { sealId: 'scjg-official' }, token)).status).toBe(401);
  });

  it('keeps one unbroken audit chain while both instances seal and issue at once', async () => {
    const pdf = await makePdf(1);
    const before = (await a.service.audit.entries()).length;
    const seals = Array.from({ length: 16 }, (_, i) => sealRequest(i % 2 ? a : b, pdf, { sealId: 'scjg-official' }, a.token));
    const licences = Array.from({ length: 8 }, (_, i) =>
      fetch(`${(i % 2 ? b : a).url}/v1/licenses`, {
        method: 'POST',
        headers: auth(a.token),
        body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '钱小七', code: '440524188001010014', codeType: '111' }, fields: { matter: '设立登记', applicationNumber: `SQ-A${i}`, receivedOn: '2026-11-25', promisedDays: 3 } }),
      }),
    );
    const sealed = await Promise.all(seals);
    const issued = await Promise.all(licences);
    expect(sealed.map((r) => r.status)).toEqual(Array(16).fill(200));
    expect(issued.map((r) => r.status)).toEqual(Array(8).fill(201));
    const ids = await Promise.all(issued.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(await b.service.audit.verify()).toEqual({ ok: true, entries: before + 16 + 8 });
    const issueEntries = (await a.service.audit.entries()).filter((e) => e.action === 'license.issue').map((e) => e.subject);
    for (const id of ids) expect(issueEntries).toContain(id);
  });
});
