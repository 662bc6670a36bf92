/**
 * Replacement (换发): the same holder and number, the next version, the old term unless a new one
 * is given, a reason recorded with the new version and in the audit log, a strictly checked body.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { sampleBusinessLicence } from '../helpers/licences.js';
import { startService, type RunningService } from '../helpers/service.js';
import { writeTemp } from '../helpers/tools.js';

const run = promisify(execFile);
let svc: RunningService;
let now = new Date('2026-03-01T02:00:00Z');

beforeAll(async () => {
  svc = await startService({}, undefined, { clock: () => now });
});
afterAll(async () => svc?.close());

const auth = (): Record<string, string> => ({ authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' });
const permit = {
  type: 'food-business-permit',
  holder: { name: '王小明餐饮店', code: '91310230MA1K314J7C', codeType: '001' },
  fields: { legalRepresentative: '王小明', premises: '某某市某某路8号', mainBusiness: '餐饮服务经营者', businessItems: '热食类食品制售' },
};

async function issue(body: unknown): Promise<LicenseRecord> {
  const res = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as LicenseRecord;
}
const replace = (id: string, body: unknown): Promise<Response> => fetch(`${svc.url}/v1/licenses/${encodeURIComponent(id)}/replace`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });

async function pdfText(record: LicenseRecord): Promise<string> {
  const pdf = await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: auth() })).arrayBuffer();
  return (await run('pdftotext', [writeTemp('replaced.pdf', Buffer.from(pdf)), '-'])).stdout;
}

describe('replacing a licence', () => {
  it('keeps the term, records the reason in the record and the audit entry, and prints the old term', async () => {
    now = new Date('2026-03-01T02:00:00Z');
    const first = await issue(permit);
    expect([first.validFrom, first.validUntil]).toEqual(['2026-03-01', '2031-02-28']);
    now = new Date('2026-11-30T02:00:00Z');
    const res = await replace(first.id, { reason: '经营场所变更', fields: { ...permit.fields, premises: '某某市某某路9号' } });
    expect(res.status, await res.clone().text()).toBe(201);
    const second = (await res.json()) as LicenseRecord;
    expect(second).toMatchObject({ version: '002', number: first.number, holderCode: first.holderCode, validFrom: '2026-03-01', validUntil: '2031-02-28', issuedOn: '2026-11-30', replaces: first.id, replacementReason: '经营场所变更' });
    expect(first.replacementReason).toBeNull();
    expect(await pdfText(second)).toContain('2026年3月1日 至 2031年2月28日');
    const audited = (await svc.service.audit.entries()).filter((e) => e.action === 'license.replace' && e.subject === second.id);
    expect(audited).toHaveLength(1);
    expect(audited[0]!.details).toMatchObject({ replaces: first.id, reason: '经营场所变更' });
  });

  it('gives a new term only when asked, no longer than the type allows; a term starting later is not yet valid', async () => {
    now = new Date('2026-11-30T02:00:00Z');
    const first = await issue(permit);
    const tooLong = await replace(first.id, { reason: '许可延续', validity: { from: '2031-12-01', until: '2036-12-01' } });
    expect(tooLong.status).toBe(422);
    expect(((await tooLong.json()) as { problems: Array<{ field: string; message: string }> }).problems).toEqual([{ field: 'validity.until', message: expect.stringMatching(/at most 5 years: until 2036-11-30/) }]);
    const renewed = await replace(first.id, { reason: '许可延续', validity: { from: '2031-12-01', until: '2036-11-30' } });
    expect(renewed.status, await renewed.clone().text()).toBe(201);
    const record = (await renewed.json()) as LicenseRecord;
    expect([record.validFrom, record.validUntil, record.status]).toEqual(['2031-12-01', '2036-11-30', 'not-yet-valid']);
  });

  it('keeps the holder: another holder is a 422 (issue a new licence), a new name of the same holder is fine', async () => {
    now = new Date('2026-11-30T02:00:00Z');
    const licence = await issue(sampleBusinessLicence());
    const other = await replace(licence.id, { reason: '转让', holder: { name: '李四科技有限公司', code: '91310230MA1K314J7C', codeType: '001' } });
    expect(other.status).toBe(422);
    const body = (await other.json()) as { problems: Array<{ field: string; message: string }> };
    expect(body.problems).toEqual([{ field: 'holder.code', message: expect.stringMatching(/issue a new licence/) }]);
    const renamed = await replace(licence.id, { reason: '名称变更', holder: { name: '张三信息技术有限公司', code: licence.holderCode, codeType: '001' } });
    expect(renamed.status, await renamed.clone().text()).toBe(201);
    expect(((await renamed.json()) as LicenseRecord).holderName).toBe('张三信息技术有限公司');
  });

  it('validates the body strictly and names every failing field in one 422', async () => {
    now = new Date('2026-11-30T02:00:00Z');
    const licence = await issue(sampleBusinessLicence());
    expect((await replace(licence.id, { fields: sampleBusinessLicence().fields })).status).toBe(400); // no reason
    expect((await replace(licence.id, { reason: '变更', holderName: '新名称' })).status).toBe(400); // unknown member
    expect((await replace(licence.id, { reason: '变更', holder: { name: 'x', code: licence.holderCode, codeType: '001', extra: 1 } })).status).toBe(400);
    const res = await replace(licence.id, {
      reason: '变更\u0000',
      holder: { name: '张三科技有限公司', code: '91310230MA1K314J7C', codeType: '001' },
      fields: { ...sampleBusinessLicence().fields, establishedOn: '2027-01-01' },
      validity: { from: '2026-12-01', until: '2046-11-30' },
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { problems: Array<{ field: string }> };
    expect(body.problems.map((p) => p.field).sort()).toEqual(['fields.establishedOn', 'holder.code', 'reason', 'validity']);
    // nothing was replaced
    const current = (await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(licence.id)}?purpose=development`, { headers: auth() })).json()) as LicenseRecord;
    expect(current.status).toBe('valid');
  });
});
