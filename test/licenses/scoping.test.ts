/**
 * Scoping and purpose (art. 33): clients made with the admin CLI issue, replace and revoke only
 * for the authorities they are bound to, read licences only for a configured purpose and only
 * of the types it covers, every read is audited, and holders see who read their records.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { buildLicenseIdentifier, parseLicenseIdentifier } from '../../src/licenses/identifier.js';
import { sampleBusinessLicence } from '../helpers/licences.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealRequest, startService, type RunningService } from '../helpers/service.js';

const run = promisify(execFile);
const XZSP = '11370500MB0100002L'; // 行政审批服务局: acceptance, refusal and correction notices
const SCJG = '11370500MB0100001H'; // 市场监督管理局: business licences and food permits
const HOLDER = '91310230MA1K314J7C';
const PURPOSE = '办理食品经营许可变更';
/** Each CLI call starts a process that compiles TypeScript: generous on a loaded machine. */
const CLI_TIMEOUT_MS = 240_000;

let svc: RunningService;

async function admin(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  // vitest sets BASE_URL=/ for its own use; the CLI must not see it.
  const { BASE_URL: _vitestBase, ...env } = process.env;
  try {
    const { stdout, stderr } = await run('node_modules/.bin/tsx', ['src/cli/admin.ts', ...args], { env: { ...env, DATA_DIR: svc.dataDir, LOG_LEVEL: 'silent', ...(svc.databaseUrl ? { DATABASE_URL: svc.databaseUrl } : {}) }, encoding: 'utf8' });
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

/** A client made by the CLI: its id and token (the last line printed). */
async function createClient(...args: string[]): Promise<{ id: string; token: string; out: string }> {
  const created = await admin('clients', 'create', ...args);
  expect(created.code, created.err).toBe(0);
  return { id: /client (\S+) created/.exec(created.out)![1]!, token: created.out.trim().split('\n').at(-1)!, out: created.out };
}

const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
const path = (id: string, rest = '') => `${svc.url}/v1/licenses/${encodeURIComponent(id)}${rest}`;

async function problemOf(res: Response): Promise<{ status: number; type: string; detail: string }> {
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  const body = (await res.json()) as { type: string; detail: string };
  return { status: res.status, type: body.type, detail: body.detail };
}

const foodPermit = {
  type: 'food-business-permit',
  holder: { name: '王小明餐饮店', code: HOLDER, codeType: '001' },
  fields: { legalRepresentative: '王小明', premises: '某某市某某路8号', mainBusiness: '餐饮服务经营者', businessItems: '热食类食品制售' },
};
const businessLicence = { ...sampleBusinessLicence('王小明餐饮管理有限公司'), holder: { name: '王小明餐饮管理有限公司', code: HOLDER, codeType: '001' as const } };
const acceptance = {
  type: 'acceptance-notice',
  holder: { name: '王小明餐饮店', code: HOLDER, codeType: '001' },
  fields: { matter: '食品经营许可', applicationNumber: 'SQ-S1', receivedOn: '2026-11-25', promisedDays: 5 },
};

async function issueWith(token: string, body: unknown): Promise<Response> {
  return fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: json(token), body: JSON.stringify(body) });
}

async function issued(token: string, body: unknown): Promise<LicenseRecord> {
  const res = await issueWith(token, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as LicenseRecord;
}

let approvals: { id: string; token: string; out: string }; // issue, revoke, seal for 行政审批服务局; may seal with scjg-official
let market: { id: string; token: string }; // issue for 市场监督管理局 with its approval seal only
let revoker: { id: string; token: string }; // revoke only, 行政审批服务局
let reader: { id: string; token: string }; // lookup, one purpose for food permits
let permit: LicenseRecord;
let licence: LicenseRecord;

beforeAll(async () => {
  svc = await startService();
  approvals = await createClient('--name', '行政审批系统', '--roles', 'issue,revoke,seal', '--seals', 'xzsp-approval,scjg-official', '--authorities', XZSP);
  market = await createClient('--name', '市场监管审批系统', '--roles', 'issue', '--seals', 'scjg-approval', '--authorities', SCJG);
  revoker = await createClient('--name', '行政审批注销', '--roles', 'revoke');
  reader = await createClient('--name', '食药监核查', '--roles', 'lookup');
  // The development client acts for every sample department.
  permit = await issued(svc.token, foodPermit);
  licence = await issued(svc.token, businessLicence);
}, CLI_TIMEOUT_MS);
afterAll(async () => svc?.close());

describe('the admin CLI', () => {
  it('binds clients to authorities and sets purposes, with readable output, and refuses what is not valid', async () => {
    expect(approvals.out).toContain(`it issues, replaces and revokes licences for ${XZSP}`);
    const bound = await admin('clients', 'bind', revoker.id, '--authorities', XZSP);
    expect(bound.code, bound.err).toBe(0);
    expect(bound.out).toContain(`now issues, replaces and revokes licences for 1 authority:\n  ${XZSP} 某某市行政审批服务局`);
    const purpose = await admin('clients', 'purpose', reader.id, '--purpose', PURPOSE, '--types', 'food-business-permit');
    expect(purpose.code, purpose.err).toBe(0);
    expect(purpose.out).toContain(`may read licences of type food-business-permit for the purpose "${PURPOSE}"`);
    const shown = await admin('clients', 'show', reader.id);
    expect(shown.out).toContain(`  purposes:    \n    ${PURPOSE}: food-business-permit`);
    expect(shown.out).toContain('authorities: - (issues, replaces and revokes no licence)');

    const badCode = await admin('clients', 'bind', reader.id, '--authorities', '11370500MB0100002X');
    expect(badCode.code).toBe(2);
    expect(badCode.err).toContain('not valid unified social credit codes: 11370500MB0100002X');
    const badType = await admin('clients', 'purpose', reader.id, '--purpose', PURPOSE, '--types', 'driving-licence');
    expect(badType.code).toBe(2);
    expect(badType.err).toContain('unknown: driving-licence');
  }, CLI_TIMEOUT_MS);
});

describe('issuing, replacing and revoking for the bound authorities only', () => {
  it('a client issues for its own department, and is refused another department’s licence type even with a seal it may use for sealing', async () => {
    expect((await issued(approvals.token, acceptance)).issuerCode).toBe(XZSP);
    // It may apply the market regulator's official seal to a PDF...
    expect((await sealRequest(svc, await makePdf(1), { sealId: 'scjg-official' }, approvals.token)).status).toBe(200);
    // ...but that does not make it an issuer of business licences.
    const before = await svc.service.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM licenses WHERE type = 'business-licence'");
    const refused = await problemOf(await issueWith(approvals.token, businessLicence));
    expect(refused).toMatchObject({ status: 403, type: '/problems/authority-not-bound' });
    expect(refused.detail).toContain(SCJG);
    expect(await svc.service.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM licenses WHERE type = 'business-licence'")).toEqual(before);
  });

  it('a client bound to the department is still refused a seal it may not use', async () => {
    expect((await problemOf(await issueWith(market.token, businessLicence))).type).toBe('/problems/issuing-seal-not-permitted');
    expect((await issued(market.token, foodPermit)).sealId).toBe('scjg-approval');
  });

  it('a revoke-only client cannot revoke another department’s licence, nor learn whether an identifier exists', async () => {
    const revoke = (id: string) => fetch(path(id, '/revoke'), { method: 'POST', headers: json(revoker.token), body: JSON.stringify({ reason: '撤销' }) });
    const existing = await problemOf(await revoke(licence.id));
    expect(existing).toMatchObject({ status: 403, type: '/problems/authority-not-bound' });
    const parts = parseLicenseIdentifier(licence.id)!;
    const missing = await problemOf(await revoke(buildLicenseIdentifier({ ...parts, serial: 'ZZZZZZZZ' })));
    expect(missing).toEqual(existing);
    expect((await svc.service.licenses.get(licence.id))!.status).toBe('valid');

    const own = await issued(approvals.token, { ...acceptance, fields: { ...acceptance.fields, applicationNumber: 'SQ-S2' } });
    const revoked = await revoke(own.id);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as LicenseRecord).status).toBe('revoked');
  });

  it('a client cannot replace another department’s licence', async () => {
    const res = await fetch(path(licence.id, '/replace'), { method: 'POST', headers: json(approvals.token), body: JSON.stringify({ reason: '住所变更' }) });
    expect(await problemOf(res)).toMatchObject({ status: 403, type: '/problems/authority-not-bound' });
    expect((await svc.service.licenses.get(licence.id))!.status).toBe('valid');
  });
});

describe('reading licences', () => {
  const read = (token: string, id: string, query: string, rest = '') => fetch(`${path(id, rest)}${query}`, { headers: { authorization: `Bearer ${token}` } });
  const withPurpose = `?purpose=${encodeURIComponent(PURPOSE)}`;

  it('needs the lookup role and a stated purpose configured for the client', async () => {
    expect(await problemOf(await read(reader.token, permit.id, ''))).toMatchObject({ status: 400, type: '/problems/purpose-required' });
    expect(await problemOf(await read(reader.token, permit.id, '', '/pdf'))).toMatchObject({ status: 400, type: '/problems/purpose-required' });
    expect(await problemOf(await read(reader.token, permit.id, `?purpose=${encodeURIComponent('核验身份')}`))).toMatchObject({ status: 403, type: '/problems/purpose-not-permitted' });
    expect(await problemOf(await read(approvals.token, permit.id, withPurpose))).toMatchObject({ status: 403, type: '/problems/forbidden' });
    const search = await fetch(`${svc.url}/v1/licenses?holderCode=${HOLDER}&purpose=${encodeURIComponent('核验身份')}`, { headers: { authorization: `Bearer ${reader.token}` } });
    expect((await problemOf(search)).type).toBe('/problems/purpose-not-permitted');
  });

  it('returns only the types the purpose covers: another type answers as a licence that does not exist', async () => {
    const record = await read(reader.token, permit.id, withPurpose);
    expect(record.status).toBe(200);
    expect(((await record.json()) as LicenseRecord).id).toBe(permit.id);
    const pdf = await read(reader.token, permit.id, withPurpose, '/pdf');
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');

    const otherType = await problemOf(await read(reader.token, licence.id, withPurpose));
    const missingId = buildLicenseIdentifier({ ...parseLicenseIdentifier(licence.id)!, serial: 'ZZZZZZZZ' });
    const missing = await problemOf(await read(reader.token, missingId, withPurpose));
    expect(otherType).toMatchObject({ status: 404, type: '/problems/unknown-license' });
    expect({ ...otherType, detail: otherType.detail.replace(licence.id, 'ID') }).toEqual({ ...missing, detail: missing.detail.replace(missingId, 'ID') });
    expect((await problemOf(await read(reader.token, licence.id, withPurpose, '/pdf'))).status).toBe(404);

    const search = await fetch(`${svc.url}/v1/licenses?holderCode=${HOLDER}&purpose=${encodeURIComponent(PURPOSE)}`, { headers: { authorization: `Bearer ${reader.token}` } });
    const { licenses } = (await search.json()) as { licenses: LicenseRecord[] };
    expect(licenses.map((l) => l.id)).toContain(permit.id);
    expect(new Set(licenses.map((l) => l.type))).toEqual(new Set(['food-business-permit']));
    // the holder has a business licence and notices too, which this purpose does not show
    expect(await svc.service.licenses.findByHolder(HOLDER, ['business-licence', 'acceptance-notice'])).not.toHaveLength(0);
  });

  it('leaves an audit entry for each read, with actor, licence and purpose, and the chain still verifies', async () => {
    const entries = (await svc.service.audit.entries()).filter((e) => e.action === 'license.lookup' && e.actor === reader.id);
    const reads = entries.map((e) => ({ subject: e.subject, ...(e.details as { purpose: string; access: string }) }));
    expect(reads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: permit.id, purpose: PURPOSE, access: 'record' }),
        expect.objectContaining({ subject: permit.id, purpose: PURPOSE, access: 'pdf' }),
        expect.objectContaining({ subject: '9131***7C', purpose: PURPOSE, access: 'holder-search', results: expect.any(Number) }),
      ]),
    );
    // refused reads revealed nothing and are not reads
    expect(reads.map((r) => r.subject)).not.toContain(licence.id);
    expect(reads).toHaveLength(3);
    const verified = await admin('audit', 'verify');
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/audit log intact: \d+ entries/);
  }, CLI_TIMEOUT_MS);
});

describe("the holder's access log", () => {
  const checkCode = (record: LicenseRecord) => new URL(record.verificationUrl).searchParams.get('c')!;
  const ask = (body: unknown) => fetch(`${svc.url}/v1/holders/access-log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('shows the holder, proved by its code and a licence’s check code, who read its records, when and why', async () => {
    const res = await ask({ holderCode: HOLDER, licenseId: licence.id, checkCode: checkCode(licence) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { entries } = (await res.json()) as { entries: Array<{ at: string; client: { id: string; name: string }; purpose: string; access: string; licenseId: string | null }> };
    const byReader = entries.filter((e) => e.client.id === reader.id);
    expect(byReader.map((e) => [e.client.name, e.purpose, e.access, e.licenseId])).toEqual([
      ['食药监核查', PURPOSE, 'record', permit.id],
      ['食药监核查', PURPOSE, 'pdf', permit.id],
      ['食药监核查', PURPOSE, 'holder-search', null],
    ]);
    expect(byReader.every((e) => !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });

  it('answers every failed proof the same way, whether the licence exists or not', async () => {
    const missingId = buildLicenseIdentifier({ ...parseLicenseIdentifier(permit.id)!, serial: 'ZZZZZZZZ' });
    const failures = await Promise.all(
      [
        { holderCode: HOLDER, licenseId: permit.id, checkCode: 'AAAAAAAAAA' }, // wrong check code
        { holderCode: '91350100M000100Y43', licenseId: permit.id, checkCode: checkCode(permit) }, // another holder
        { holderCode: HOLDER, licenseId: licence.id, checkCode: checkCode(permit) }, // another licence's code
        { holderCode: HOLDER, licenseId: missingId, checkCode: 'AAAAAAAAAA' }, // no such licence
        { holderCode: HOLDER, licenseId: permit.id }, // no check code
      ].map(async (body) => problemOf(await ask(body))),
    );
    for (const failure of failures) expect(failure).toEqual({ status: 404, type: '/problems/holder-not-verified', detail: failures[0]!.detail });
  });

  it('is open to a client acting for the holder, with a configured purpose', async () => {
    const url = `${svc.url}/v1/holders/${HOLDER}/access-log`;
    const headers = { authorization: `Bearer ${reader.token}` };
    expect((await problemOf(await fetch(url, { headers }))).type).toBe('/problems/purpose-required');
    // the business licence read by the development client: the holder sees it, the reader's food-permit purpose does not
    expect((await fetch(`${path(licence.id)}?purpose=development`, { headers: { authorization: `Bearer ${svc.token}` } })).status).toBe(200);
    const own = (await (await ask({ holderCode: HOLDER, licenseId: licence.id, checkCode: checkCode(licence) })).json()) as { entries: Array<{ licenseId: string | null }> };
    expect(own.entries.map((e) => e.licenseId)).toContain(licence.id);
    const res = await fetch(`${url}?purpose=${encodeURIComponent(PURPOSE)}`, { headers });
    expect(res.status).toBe(200);
    const { entries } = (await res.json()) as { entries: Array<{ client: { id: string }; licenseId: string | null }> };
    expect(entries.filter((e) => e.client.id === reader.id)).toHaveLength(3);
    expect(entries.map((e) => e.licenseId)).not.toContain(licence.id);
    expect(entries.every((e) => e.licenseId === null || e.licenseId === permit.id)).toBe(true);
    const audited = (await svc.service.audit.entries()).filter((e) => e.action === 'license.access-log');
    expect(audited.map((e) => e.actor)).toEqual(expect.arrayContaining(['holder', reader.id]));
  });
});

describe('the development client of the embedded default', () => {
  it('gets its scope at the next start when its data dir was made before scoping, so its token keeps working', async () => {
    const first = await startService();
    const { dataDir, token } = first;
    // what a data dir from before migration 30 amounts to: a development client with neither authorities nor purposes
    await first.service.db.run('DELETE FROM client_authorities');
    await first.service.db.run('DELETE FROM client_purposes');
    await first.close();
    const again = await startService({ PUBLIC_RATE_LIMIT: '3' }, dataDir);
    try {
      expect(again.token).toBe(token);
      const notice = await fetch(`${again.url}/v1/licenses`, { method: 'POST', headers: json(token), body: JSON.stringify(acceptance) });
      expect(notice.status).toBe(201);
      const { id } = (await notice.json()) as LicenseRecord;
      const read = await fetch(`${again.url}/v1/licenses/${encodeURIComponent(id)}?purpose=development`, { headers: { authorization: `Bearer ${token}` } });
      expect(read.status).toBe(200);

      // the holder's route is limited per address like the public routes
      const attempt = () => fetch(`${again.url}/v1/holders/access-log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ holderCode: HOLDER, licenseId: id, checkCode: 'AAAAAAAAAA' }) });
      for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(404);
      const limited = await attempt();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('60');
    } finally {
      await again.close();
    }
  }, CLI_TIMEOUT_MS);
});
