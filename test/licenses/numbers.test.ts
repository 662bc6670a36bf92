/**
 * Printed licence numbers: unique per issuing authority and type, never shared between types
 * (营业执照 and 受理通知书 both printed 0012026000001 before), in each type's form (food permits:
 * JY and 14 digits with a check digit), also when many are issued at once.
 */
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { parseLicenseIdentifier } from '../../src/licenses/identifier.js';
import { foodPermitNumber, isValidFoodPermitNumber, issuerDivision } from '../../src/licenses/numbering.js';
import { loadLicenseTypes, LicenseTypeError } from '../../src/licenses/types.js';
import { beijingDateFromNow, sampleBusinessLicence } from '../helpers/licences.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const run = promisify(execFile);
const templates = fileURLToPath(new URL('../../templates', import.meta.url));

describe('number forms', () => {
  it('food permit numbers: JY, business type, the issuer\'s division, serial, check digit', () => {
    expect(issuerDivision('11370500MB0100001H')).toBe('370500');
    const number = foodPermitNumber('2', '370500', 123);
    expect(number).toMatch(/^JY2370500000123\d$/);
    expect(number).toHaveLength(16);
    expect(isValidFoodPermitNumber(number)).toBe(true);
    expect(isValidFoodPermitNumber(`${number.slice(0, 8)}${(Number(number[8]) + 1) % 10}${number.slice(9)}`)).toBe(false);
    expect(isValidFoodPermitNumber('JY237050000012')).toBe(false);
  });

  it('refuses types that share a number prefix, or a food permit form without a digit for each business type', () => {
    const dir = tempDir('types');
    cpSync(templates, dir, { recursive: true });
    const refusal = path.join(dir, 'refusal-notice', 'type.json');
    writeFileSync(refusal, JSON.stringify({ ...JSON.parse(readFileSync(refusal, 'utf8')), number: { form: 'yearly', prefix: 'SL' } }));
    expect(() => loadLicenseTypes(dir)).toThrow(/acceptance-notice and refusal-notice have the same number prefix SL/);
    cpSync(templates, dir, { recursive: true });
    const permit = path.join(dir, 'food-business-permit', 'type.json');
    const type = JSON.parse(readFileSync(permit, 'utf8'));
    writeFileSync(permit, JSON.stringify({ ...type, number: { ...type.number, businessTypeDigits: { 食品销售经营者: '1', 餐饮服务经营者: '2' } } }));
    expect(() => loadLicenseTypes(dir)).toThrow(LicenseTypeError);
    expect(() => loadLicenseTypes(dir)).toThrow(/单位食堂/);
  });
});

describe('issued numbers', () => {
  let svc: RunningService;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' });
  const year = (): string => beijingDateFromNow(0).slice(0, 4);
  const receipt = (n: number) => ({
    type: 'acceptance-notice',
    holder: { name: '赵小六', code: '440524188001010014', codeType: '111' },
    fields: { matter: '设立登记', applicationNumber: `SQ${n}`, receivedOn: beijingDateFromNow(0), promisedDays: 3 },
  });
  const permit = (mainBusiness: string) => ({
    type: 'food-business-permit',
    holder: { name: '王小明餐饮店', code: '91310230MA1K314J7C', codeType: '001' },
    fields: { legalRepresentative: '王小明', premises: '某某市某某路8号', mainBusiness, businessItems: '热食类食品制售' },
  });
  const issue = async (body: unknown): Promise<LicenseRecord> => {
    const res = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as LicenseRecord;
  };

  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => svc?.close());

  it('the first business licence and the first receipt of a year no longer share a number', async () => {
    const licence = await issue(sampleBusinessLicence());
    const notice = await issue(receipt(1));
    expect(licence.number).toBe(`YYZZ${year()}000001`);
    expect(notice.number).toBe(`SL${year()}000001`);
    expect(parseLicenseIdentifier(licence.id)!.serial).toBe(licence.number);
    const pdf = await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(licence.id)}/pdf?purpose=development`, { headers: auth() })).arrayBuffer();
    expect((await run('pdftotext', [writeTemp('numbered.pdf', Buffer.from(pdf)), '-'])).stdout).toContain(`编号：${licence.number}`);
  });

  it('food permits carry JY numbers with the business type, the issuer\'s division and a check digit; a replacement keeps the number', async () => {
    const restaurant = await issue(permit('餐饮服务经营者'));
    const shop = await issue(permit('食品销售经营者'));
    expect(restaurant.number).toMatch(/^JY2370500\d{7}$/); // 370500: the division in the issuer's USCC 11370500MB0100001H
    expect(shop.number).toMatch(/^JY1370500\d{7}$/);
    for (const n of [restaurant.number, shop.number]) expect(isValidFoodPermitNumber(n)).toBe(true);
    expect(Number(shop.number.slice(9, 15))).toBe(Number(restaurant.number.slice(9, 15)) + 1);
    const res = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(restaurant.id)}/replace`, { method: 'POST', headers: auth(), body: JSON.stringify({ reason: '经营场所变更', fields: { ...permit('餐饮服务经营者').fields, premises: '某某市某某路9号' } }) });
    expect(res.status, await res.clone().text()).toBe(201);
    const replaced = (await res.json()) as LicenseRecord;
    expect([replaced.number, replaced.version]).toEqual([restaurant.number, '002']);
  });

  it('numbers issued concurrently across types are all different and each type counts without repeats', async () => {
    const requests = [...Array.from({ length: 4 }, (_, i) => sampleBusinessLicence(`并发${i}科技有限公司`)), ...Array.from({ length: 4 }, (_, i) => receipt(100 + i)), ...Array.from({ length: 3 }, () => permit('单位食堂'))];
    const records = await Promise.all(requests.map((r) => issue(r)));
    const numbers = records.map((r) => r.number);
    expect(new Set(numbers).size).toBe(numbers.length);
    const serialsOf = (prefix: string, from: number, to: number) =>
      numbers
        .filter((n) => n.startsWith(prefix))
        .map((n) => Number(n.slice(from, to)))
        .sort((a, b) => a - b);
    expect(serialsOf('YYZZ', 8, 14)).toEqual([2, 3, 4, 5]);
    expect(serialsOf('SL', 6, 12)).toEqual([2, 3, 4, 5]);
    expect(serialsOf('JY3', 9, 15)).toEqual([3, 4, 5]); // food permits count across business types
    const stored = await svc.service.db.all<{ number: string }>('SELECT number FROM licenses');
    expect(new Set(stored.map((r) => r.number)).size).toBe(stored.length - 1); // the one replacement keeps its number
  });

  it('a lost counter continues after the highest number already issued', async () => {
    await svc.service.db.run('DELETE FROM license_number_serials');
    const permitAfter = await issue(permit('食品销售经营者'));
    expect(permitAfter.number.slice(0, 9)).toBe('JY1370500');
    expect(Number(permitAfter.number.slice(9, 15))).toBe(6);
    expect(isValidFoodPermitNumber(permitAfter.number)).toBe(true);
    expect((await issue(sampleBusinessLicence('恢复科技有限公司'))).number).toBe(`YYZZ${year()}000006`);
  });
});
