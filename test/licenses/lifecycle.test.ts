import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { maskCode, maskName } from '../../src/licenses/public-facts.js';
import { ClientScopeStore } from '../../src/store/client-scopes.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
let auth: Record<string, string>;
beforeAll(async () => {
  svc = await startService();
  auth = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
});
afterAll(async () => svc?.close());

const permit = {
  type: 'food-business-permit',
  holder: { name: '王小明餐饮店', code: '91310230MA1K314J7C', codeType: '001' },
  fields: { legalRepresentative: '王小明', premises: '某某市某某路8号', mainBusiness: '餐饮服务经营者', businessItems: '热食类食品制售' },
};

async function issue(): Promise<LicenseRecord> {
  const res = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth, body: JSON.stringify(permit) });
  expect(res.status).toBe(201);
  return (await res.json()) as LicenseRecord;
}

async function pdfOf(record: LicenseRecord): Promise<Buffer> {
  return Buffer.from(await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: auth })).arrayBuffer());
}

async function verify(pdf: Buffer): Promise<{ verdict: string; license: { status: string } | null }> {
  const res = await fetch(`${svc.url}/v1/licenses/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status).toBe(200);
  return (await res.json()) as { verdict: string; license: { status: string } | null };
}

describe('license lifecycle and verification', () => {
  it('masks names and codes on the public page', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('张小三')).toBe('张*三');
    expect(maskCode('11010519491231002X')).toBe('1101**********002X');
  });

  it('the QR page shows the status before and after revocation, and nothing without the check code', async () => {
    const record = await issue();
    // The service under test listens on a random port, not on the base URL printed in the QR code.
    const local = (url: string) => `${svc.url}${new URL(url).pathname}${new URL(url).search}`;
    const page = async (url: string) => {
      const res = await fetch(local(url));
      return { status: res.status, html: await res.text() };
    };
    const before = await page(record.verificationUrl);
    expect(before.status).toBe(200);
    expect(before.html).toContain('真实有效');
    expect(before.html).toContain('食品经营许可证');
    expect(before.html).toContain(record.number);
    // The holder is a legal person: its name, code and registered facts are public; the legal
    // representative is a natural person, masked.
    expect(before.html).toContain('王小明餐饮店');
    expect(before.html).toContain('91310230MA1K314J7C');
    expect(before.html).toContain('某某市某某路8号');
    expect(before.html).toContain('热食类食品制售');
    expect(before.html).toContain('王*明');
    expect(before.html).not.toMatch(/>王小明</);
    const forged = await page(record.verificationUrl.replace(/c=[^&]+$/, 'c=AAAAAAAAAA'));
    expect(forged.status).toBe(404);
    expect(forged.html).toContain('无法核验');
    expect(forged.html).not.toContain('王小明');
    const revoke = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/revoke`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: '申请人主动注销' }) });
    expect(revoke.status).toBe(200);
    const after = await page(record.verificationUrl);
    expect(after.html).toMatch(/已撤销（\d{4}年\d{1,2}月\d{1,2}日）/);
    expect((await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/revoke`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'again' }) })).status).toBe(409);
  });

  it('POST /v1/licenses/verify: authentic, altered, revoked, superseded, and not a license', async () => {
    const record = await issue();
    const pdf = await pdfOf(record);
    expect((await verify(pdf)).verdict).toBe('authentic');
    const tampered = Buffer.from(pdf);
    const at = tampered.indexOf('stream\n') + 30;
    tampered[at] = tampered[at]! ^ 0x01;
    expect((await verify(tampered)).verdict).toBe('document-altered');
    const replaced = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/replace`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: '经营场所变更', fields: { ...permit.fields, premises: '某某市某某路9号' } }) });
    expect(replaced.status).toBe(201);
    const newer = (await replaced.json()) as LicenseRecord;
    expect(newer.version).toBe('002');
    expect(newer.id.split('.').slice(-4, -2)).toEqual(record.id.split('.').slice(-4, -2)); // same issuer and serial
    expect((await verify(pdf)).verdict).toBe('superseded');
    expect((await verify(await pdfOf(newer))).verdict).toBe('authentic');
    await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(newer.id)}/revoke`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: '违法经营' }) });
    expect((await verify(await pdfOf(newer))).verdict).toBe('revoked');
    const otherSealed = await sealOk(svc, await makePdf(1), { sealId: 'scjg-official' });
    expect((await verify(otherSealed)).verdict).toBe('not-in-registry');
    expect((await verify(await makePdf(1))).verdict).toBe('not-in-registry');
  });
});

describe('expiry', () => {
  it('a license past its validity reads as expired, on the page and in verification', async () => {
    const sixYearsAgo = new Date(Date.now() - 6 * 365 * 86_400_000);
    const old = await svc.service.licenses.issue(permit.type, { holder: permit.holder, fields: permit.fields }, sixYearsAgo);
    expect(old.validUntil! < new Date().toISOString().slice(0, 10)).toBe(true);
    expect(old.status).toBe('expired');
    expect(old.holderCodeType).toBe('001');
    const pdf = (await svc.service.licenses.pdf(old.id))!;
    expect((await verify(pdf)).verdict).toBe('expired');
    const html = await (await fetch(`${svc.url}${new URL(old.verificationUrl).pathname}${new URL(old.verificationUrl).search}`)).text();
    expect(html).toContain('已过期');
  });
});

describe('an issuing seal that has been revoked', () => {
  it('answers 409, not an error', async () => {
    await svc.service.seals.revoke('scjg-approval', 1);
    const res = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth, body: JSON.stringify(permit) });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { type: string }).type).toBe('/problems/issuing-seal-unavailable');
  });
});

describe('lookups by relying offices', () => {
  it('require a stated purpose and record it', async () => {
    const { token, client } = await svc.service.clients.create('relying office', ['lookup'], []);
    await new ClientScopeStore(svc.service.db).setPurpose(client.id, '办理食品经营许可变更', ['food-business-permit']);
    const headers = { authorization: `Bearer ${token}` };
    const code = permit.holder.code;
    expect((await fetch(`${svc.url}/v1/licenses?holderCode=${code}`, { headers })).status).toBe(400);
    const res = await fetch(`${svc.url}/v1/licenses?holderCode=${code}&purpose=${encodeURIComponent('办理食品经营许可变更')}`, { headers });
    expect(res.status).toBe(200);
    const { licenses } = (await res.json()) as { licenses: LicenseRecord[] };
    expect(licenses.length).toBeGreaterThan(0);
    expect(licenses.every((l) => l.holderCode === code)).toBe(true);
    const log = await fetch(`${svc.url}/v1/holders/${code}/access-log?purpose=${encodeURIComponent('办理食品经营许可变更')}`, { headers });
    const { entries } = (await log.json()) as { entries: Array<Record<string, unknown>> };
    expect(entries.at(-1)).toMatchObject({ client: { id: client.id, name: 'relying office' }, purpose: '办理食品经营许可变更', access: 'holder-search', results: licenses.length });
  });

  it('answer 400 for a holder code no licence can have (control characters), and search one with astral characters, as for any code', async () => {
    const { token, client } = await svc.service.clients.create('relying office 2', ['lookup'], []);
    await new ClientScopeStore(svc.service.db).setPurpose(client.id, '核对', ['food-business-permit']);
    const headers = { authorization: `Bearer ${token}` };
    const purpose = `purpose=${encodeURIComponent('核对')}`;
    for (const code of ['9137%00ABC', 'ABC%0Adef', '%E2%80%AEABCDEF']) {
      const search = await fetch(`${svc.url}/v1/licenses?holderCode=${code}&${purpose}`, { headers });
      expect(search.status, code).toBe(400);
      expect(search.headers.get('content-type')).toMatch(/problem\+json/);
      const log = await fetch(`${svc.url}/v1/holders/${code}/access-log?${purpose}`, { headers });
      expect(log.status, code).toBe(400);
    }
    // The audit subject keeps a masked code's first four and last two characters: whole ones.
    const astral = encodeURIComponent('ABC😀DEFGH😀');
    const search = await fetch(`${svc.url}/v1/licenses?holderCode=${astral}&${purpose}`, { headers });
    expect(search.status).toBe(200);
    expect(((await search.json()) as { licenses: unknown[] }).licenses).toEqual([]);
    expect((await fetch(`${svc.url}/v1/holders/${astral}/access-log?${purpose}`, { headers })).status).toBe(200);
    expect(await svc.service.audit.verify()).toMatchObject({ ok: true });
  });
});
