/**
 * Dates on licences and notices are Beijing dates whatever the host's zone: issued at 23:30 UTC
 * (07:30 the next morning in Beijing), a document carries the Beijing date, in the Chinese form.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { parseLicenseIdentifier } from '../../src/licenses/identifier.js';
import { startService, type RunningService } from '../helpers/service.js';
import { writeTemp } from '../helpers/tools.js';

const run = promisify(execFile);
let svc: RunningService;
let now = new Date('2026-11-29T23:30:00Z');
const hostZone = process.env.TZ;

beforeAll(async () => {
  // A host whose local date at that instant is still the 29th, and UTC says the same.
  process.env.TZ = 'America/Los_Angeles';
  svc = await startService({}, undefined, { clock: () => now });
});
afterAll(async () => {
  if (hostZone === undefined) delete process.env.TZ;
  else process.env.TZ = hostZone;
  await svc?.close();
});

async function issue(body: unknown): Promise<LicenseRecord> {
  const res = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as LicenseRecord;
}

async function pdfText(record: LicenseRecord): Promise<string> {
  const res = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: { authorization: `Bearer ${svc.token}` } });
  const file = writeTemp('dated.pdf', Buffer.from(await res.arrayBuffer()));
  return (await run('pdftotext', [file, '-'])).stdout;
}

describe('dates in Beijing time', () => {
  it('a receipt issued at 23:30 UTC carries the Beijing date and never predates the application it acknowledges', async () => {
    now = new Date('2026-11-29T23:30:00Z');
    const receivedOn = '2026-11-30'; // the application arrived that Beijing morning
    const record = await issue({
      type: 'acceptance-notice',
      holder: { name: '赵小六', code: '440524188001010014', codeType: '111' },
      fields: { matter: '个体工商户设立登记', applicationNumber: 'SQ2026001130', receivedOn, promisedDays: 3 },
    });
    expect(record.issuedAt).toBe('2026-11-29T23:30:00.000Z');
    expect(record.issuedOn).toBe('2026-11-30');
    expect(record.issuedOn >= receivedOn).toBe(true);
    const text = await pdfText(record);
    // the date of receipt and the date under the seal
    expect(text.split('2026年11月30日').length - 1).toBe(2);
    expect(text).not.toContain('2026年11月29日');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    const page = await (await fetch(`${svc.url}${new URL(record.verificationUrl).pathname}${new URL(record.verificationUrl).search}`)).text();
    expect(page).toContain('2026年11月30日');
  });

  it('validity and the serial year start on the Beijing date: New Year in Beijing is 16:00 UTC', async () => {
    now = new Date('2026-12-31T16:30:00Z');
    const record = await issue({
      type: 'food-business-permit',
      holder: { name: '王小明餐饮店', code: '91310230MA1K314J7C', codeType: '001' },
      fields: { legalRepresentative: '王小明', premises: '某某市某某路8号', mainBusiness: '餐饮服务经营者', businessItems: '热食类食品制售' },
    });
    expect(record.issuedOn).toBe('2027-01-01');
    expect(record.validFrom).toBe('2027-01-01');
    expect(record.validUntil).toBe('2031-12-31');
    const text = await pdfText(record);
    expect(text).toContain('2027年1月1日 至 2031年12月31日');
    expect(text).not.toContain('2026年12月31日');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    const receipt = await issue({
      type: 'acceptance-notice',
      holder: { name: '赵小六', code: '440524188001010014', codeType: '111' },
      fields: { matter: '个体工商户设立登记', applicationNumber: 'SQ2027000001', receivedOn: '2027-01-01', promisedDays: 3 },
    });
    expect(receipt.number).toBe('SL2027000001');
    expect(parseLicenseIdentifier(receipt.id)!.serial).toBe('SL2027000001');
  });
});
