/**
 * Requests that are well-formed but implausible: dates on the wrong side of the date of issue,
 * holder codes of the wrong kind, organs holding business licences, characters that do not print
 * or reorder what is shown. Every failing field is named in one 422.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidUscc } from '../../src/codes/check-characters.js';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { loadLicenseTypes } from '../../src/licenses/types.js';
import { validateLicenseRequest, type LicenseRequest } from '../../src/licenses/validate.js';
import { beijingDateFromNow, sampleBusinessLicence } from '../helpers/licences.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

const templates = fileURLToPath(new URL('../../templates', import.meta.url));
const types = loadLicenseTypes(templates);
const today = '2026-11-30';
const fieldsWithProblems = (type: string, request: LicenseRequest): string[] =>
  validateLicenseRequest(types.get(type)!, request, { today })
    .map((p) => p.field)
    .sort();

const business = (changes: { holder?: Partial<LicenseRequest['holder']>; fields?: Record<string, unknown> } = {}): LicenseRequest => {
  const sample = sampleBusinessLicence();
  return { holder: { ...sample.holder, ...changes.holder }, fields: { ...sample.fields, ...changes.fields } };
};
const receipt = (receivedOn: string, holder: LicenseRequest['holder'] = { name: '赵小六', code: '440524188001010014', codeType: '111' }): LicenseRequest => ({
  holder,
  fields: { matter: '设立登记', applicationNumber: 'SQ1', receivedOn, promisedDays: 3 },
});

describe('dates against the date of issue', () => {
  it('refuses a past event dated later than the date of issue, and a deadline already passed', () => {
    expect(fieldsWithProblems('business-licence', business({ fields: { establishedOn: '2026-12-01', operatingUntil: '2026-11-29' } }))).toEqual(['fields.establishedOn', 'fields.operatingUntil']);
    expect(fieldsWithProblems('business-licence', business({ fields: { establishedOn: today, operatingUntil: today } }))).toEqual([]);
    // a receipt cannot acknowledge an application received after it
    expect(fieldsWithProblems('acceptance-notice', receipt('2026-12-01'))).toEqual(['fields.receivedOn']);
    expect(fieldsWithProblems('acceptance-notice', receipt(today))).toEqual([]);
    const correction = (deadline: string): LicenseRequest => ({
      holder: { name: '李四', code: '11010519491231002X', codeType: '111' },
      fields: { matter: '食品经营许可', applicationNumber: 'A1', missingMaterials: ['营业执照复印件'], deadline },
    });
    expect(fieldsWithProblems('correction-notice', correction('2026-11-29'))).toEqual(['fields.deadline']);
    expect(fieldsWithProblems('correction-notice', correction(today))).toEqual([]);
  });
});

describe('holder codes, checked as the type the request states', () => {
  it('a mistyped citizen ID that happens to carry a valid USCC check character is refused as a citizen ID', () => {
    const mistyped = '440524199001011032';
    expect(isValidUscc(mistyped)).toBe(true); // what let it through before
    expect(fieldsWithProblems('acceptance-notice', receipt(today, { name: '赵小六', code: mistyped, codeType: '111' }))).toEqual(['holder.code']);
  });

  it('needs the code type, and the one the licence type is issued to', () => {
    expect(fieldsWithProblems('acceptance-notice', receipt(today, { name: '赵小六', code: '440524188001010014', codeType: undefined }))).toEqual(['holder.codeType']);
    expect(fieldsWithProblems('acceptance-notice', receipt(today, { name: '赵小六', code: '440524188001010014', codeType: 'USCC' }))).toEqual(['holder.codeType']);
    expect(fieldsWithProblems('business-licence', business({ holder: { code: '440524188001010014', codeType: '111' } }))).toEqual(['holder.codeType']);
    expect(fieldsWithProblems('acceptance-notice', receipt(today, { name: '某某科技有限公司', code: '91350100M000100Y43', codeType: '001' }))).toEqual([]);
  });

  it('refuses a citizen ID whose date of birth is after the date of issue', () => {
    expect(fieldsWithProblems('acceptance-notice', receipt(today, { name: '赵小六', code: '440524203001010017', codeType: '111' }))).toEqual(['holder.code']);
  });

  it('refuses government organs and other non-market entities as holders of a business licence, not of a food permit', () => {
    const organ = '11430000006122244L'; // registration authority 1 (机构编制), category 1 (机关)
    const problems = validateLicenseRequest(types.get('business-licence')!, business({ holder: { code: organ } }), { today });
    expect(problems).toEqual([{ field: 'holder.code', message: expect.stringMatching(/government organ/) }]);
    expect(fieldsWithProblems('business-licence', business({ holder: { code: '12100000400000000W' } }))).toEqual(['holder.code']); // a public institution
    expect(fieldsWithProblems('business-licence', business({ holder: { code: '93370500MA0000000B' } }))).toEqual([]); // a farmers' cooperative
    const canteen: LicenseRequest = { holder: { name: '某某局机关食堂', code: organ, codeType: '001' }, fields: { legalRepresentative: '张三', premises: '某某路1号', mainBusiness: '单位食堂', businessItems: '热食类食品制售' } };
    expect(fieldsWithProblems('food-business-permit', canteen)).toEqual([]);
  });
});

describe('printable text', () => {
  it('refuses control characters, NUL, line breaks in one-line fields and bidi controls, each field named', () => {
    const request = business({
      holder: { name: '张三科技\u202E有限公司' },
      fields: { domicile: '某某路1号\u0000', businessScope: '软件开发\n信息技术咨询', legalRepresentative: '张\u2066三\u2069', registeredCapital: '100\u0007万元' },
    });
    const problems = validateLicenseRequest(types.get('business-licence')!, request, { today });
    expect(problems.map((p) => p.field).sort()).toEqual(['fields.businessScope', 'fields.domicile', 'fields.legalRepresentative', 'fields.registeredCapital', 'holder.name']);
    expect(problems.find((p) => p.field === 'holder.name')!.message).toMatch(/U\+202E/);
    expect(problems.find((p) => p.field === 'fields.domicile')!.message).toMatch(/U\+0000/);
    expect(problems.find((p) => p.field === 'fields.businessScope')!.message).toMatch(/one line/);
    for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x2067, 0x2068, 0x200f, 0x0085, 0x007f]) {
      expect(fieldsWithProblems('business-licence', business({ fields: { domicile: `某某路${String.fromCodePoint(cp)}1号` } })), cp.toString(16)).toEqual(['fields.domicile']);
    }
  });

  it('lets multi-line fields hold paragraphs, and still refuses carriage returns and controls there and in list items', () => {
    const refusal = (reason: string): LicenseRequest => ({
      holder: { name: '李四', code: '11010519491231002X', codeType: '111' },
      fields: { matter: '食品经营许可', applicationNumber: 'A1', reason, legalBasis: '《中华人民共和国行政许可法》第三十二条', remedy: '如不服本决定，可在六十日内申请行政复议，或在六个月内提起行政诉讼。' },
    });
    expect(fieldsWithProblems('refusal-notice', refusal('一、申请材料不齐全。\n二、申请事项不属于本机关职权范围。'))).toEqual([]);
    expect(fieldsWithProblems('refusal-notice', refusal('一、申请材料不齐全。\r\n二、其他。'))).toEqual(['fields.reason']);
    const correction: LicenseRequest = { holder: { name: '李四', code: '11010519491231002X', codeType: '111' }, fields: { matter: '食品经营许可', applicationNumber: 'A1', missingMaterials: ['营业执照复印件', '平面图\u202E'], deadline: today } };
    const problems = validateLicenseRequest(types.get('correction-notice')!, correction, { today });
    expect(problems).toEqual([{ field: 'fields.missingMaterials', message: expect.stringMatching(/item 2 .*U\+202E/) }]);
  });

  it('keeps emoji and rare CJK characters, which are printable', () => {
    expect(fieldsWithProblems('business-licence', business({ holder: { name: '𠮷野家餐饮有限公司' }, fields: { legalRepresentative: '𠮷田' } }))).toEqual([]);
  });
});

describe('over HTTP', () => {
  let svc: RunningService;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' });

  beforeAll(async () => {
    // The standard types and one whose validity starts on a date the request gives.
    const dir = tempDir('templates');
    cpSync(templates, dir, { recursive: true });
    mkdirSync(path.join(dir, 'temporary-permit'));
    const permit = {
      code: 'temporary-permit',
      name: '临时占道许可证',
      typeCode: '11370500MB0100001H004',
      sealType: 'approval',
      issuerSealId: 'scjg-approval',
      validity: { kind: 'field', from: 'validFrom', until: 'validUntil' },
      page: { size: 'A4', orientation: 'portrait' },
      layout: { titleSize: 24, fontSize: 12, qr: { leftMm: 22, bottomMm: 22, sizeMm: 26 }, seal: { rightMm: 55, bottomMm: 50 } },
      number: { form: 'yearly', prefix: 'LSZD' },
      holder: { codeType: 'any', nameLabel: '申请人', codeLabel: '证件号码' },
      fields: [
        { key: 'place', label: '占用地点', type: 'text', required: true, maxLength: 100 },
        { key: 'validFrom', label: '起始日期', type: 'date', required: true },
        { key: 'validUntil', label: '截止日期', type: 'date', required: true, when: 'deadline' },
      ],
    };
    writeFileSync(path.join(dir, 'temporary-permit', 'type.json'), JSON.stringify(permit));
    svc = await startService({ TEMPLATES_DIR: dir });
  });
  afterAll(async () => svc?.close());

  it('answers every implausible field in one 422', async () => {
    const res = await fetch(`${svc.url}/v1/licenses`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ type: 'business-licence', holder: { name: '某某市人民政府\u202E', code: '11430000006122244L', codeType: '001' }, fields: { ...sampleBusinessLicence().fields, establishedOn: beijingDateFromNow(2), domicile: '某某路\n1号' } }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { type: string; problems: Array<{ field: string }> };
    expect(body.type).toBe('/problems/invalid-license-fields');
    expect(body.problems.map((p) => p.field).sort()).toEqual(['fields.domicile', 'fields.establishedOn', 'holder.code', 'holder.name']);
    const untyped = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth(), body: JSON.stringify({ ...sampleBusinessLicence(), holder: { name: '张三科技有限公司', code: '91350100M000100Y43' } }) });
    expect(untyped.status).toBe(400);
    expect(await untyped.text()).toMatch(/codeType/);
  });

  it('a licence whose validity starts later is not-yet-valid on the public page and in verification, not authentic', async () => {
    const validFrom = beijingDateFromNow(40);
    const res = await fetch(`${svc.url}/v1/licenses`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ type: 'temporary-permit', holder: { name: '赵小六', code: '440524188001010014', codeType: '111' }, fields: { place: '某某路1号门前', validFrom, validUntil: beijingDateFromNow(70) } }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const record = (await res.json()) as LicenseRecord;
    expect(record.status).toBe('not-yet-valid');
    expect(record.holderCodeType).toBe('111');
    const url = new URL(record.verificationUrl);
    const page = await (await fetch(`${svc.url}${url.pathname}${url.search}`)).text();
    expect(page).not.toContain('真实有效');
    expect(page).toContain(`尚未生效（自${Number(validFrom.slice(0, 4))}年${Number(validFrom.slice(5, 7))}月${Number(validFrom.slice(8, 10))}日起有效）`);
    const pdf = await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: auth() })).arrayBuffer();
    const verified = (await (await fetch(`${svc.url}/v1/licenses/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) })).json()) as { verdict: string; detail: string };
    expect(verified.verdict).toBe('not-yet-valid');
    expect(verified.detail).toContain(validFrom);
  });
});
