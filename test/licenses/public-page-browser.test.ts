import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { startService, type RunningService } from '../helpers/service.js';
import { sampleBusinessLicence } from '../helpers/licences.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const run = promisify(execFile);
/** Where the screenshots go; the test prints it so a person can look at them. */
const shots = tempDir('public-page-shots');
let svc: RunningService;
let browser: Browser;

beforeAll(async () => {
  // Reachable, so the URL in the QR code is the one the browser opens.
  svc = await startService({}, tempDir('qr-page'), { reachable: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await svc?.close();
});

describe('the public verification page in a browser', () => {
  it('opens from the decoded QR code and shows the status before and after revocation', async () => {
    const auth = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
    const res = await fetch(`${svc.url}/v1/licenses`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '赵小六', code: '440524188001010014', codeType: '111' }, fields: { matter: '个体工商户设立登记', applicationNumber: 'SQ2026000456', receivedOn: '2026-11-25', promisedDays: 3 } }),
    });
    expect(res.status).toBe(201);
    const record = (await res.json()) as LicenseRecord;
    const pdf = Buffer.from(await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: auth })).arrayBuffer());
    const dir = tempDir('qr-render');
    await run('pdftoppm', ['-r', '150', '-png', '-singlefile', writeTemp('notice.pdf', pdf), path.join(dir, 'page')]);
    const url = (await run('zbarimg', ['--quiet', '--raw', path.join(dir, 'page.png')])).stdout.trim();
    expect(url.startsWith(svc.url)).toBe(true);

    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(url);
    expect(await page.textContent('#status')).toBe('真实有效');
    const body = (await page.textContent('body')) ?? '';
    expect(body).toContain('受理通知书');
    expect(body).toContain('赵*六');
    expect(body).toContain('4405**********0014');
    expect(body).not.toContain('赵小六');
    await page.screenshot({ path: path.join(shots, 'notice-valid.png') });

    await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/revoke`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: '申请撤回' }) });
    await page.reload();
    expect(await page.textContent('#status')).toMatch(/^已撤销（\d{4}年\d{1,2}月\d{1,2}日）$/);
    await page.close();
  });

  it('shows each status in its banner, with the licence face and the styles the policy allows', async () => {
    const auth = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
    const issue = async (body: unknown): Promise<LicenseRecord> => {
      const res = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as LicenseRecord;
    };
    const post = async (record: LicenseRecord, action: 'revoke' | 'replace', body: unknown): Promise<LicenseRecord> => {
      const res = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/${action}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return (await res.json()) as LicenseRecord;
    };
    const permit = { type: 'food-business-permit', holder: { name: '王小明餐饮店', code: '91310230MA1K314J7C', codeType: '001' as const }, fields: { legalRepresentative: '王小明', premises: '某某市某某路8号', mainBusiness: '餐饮服务经营者', businessItems: '热食类食品制售' } };

    const valid = await issue(sampleBusinessLicence());
    const revoked = await post(await issue(sampleBusinessLicence('李四商贸有限公司')), 'revoke', { reason: '申请注销' });
    const first = await issue(sampleBusinessLicence('王五物流有限公司'));
    const second = await post(first, 'replace', { reason: '名称变更', holder: { name: '王五供应链有限公司', code: sampleBusinessLicence().holder.code, codeType: '001' } });
    const third = await post(second, 'replace', { reason: '名称变更', holder: { name: '王五智慧供应链有限公司', code: sampleBusinessLicence().holder.code, codeType: '001' } });
    const expired = await svc.service.licenses.issue(permit.type, { holder: permit.holder, fields: permit.fields }, new Date(Date.now() - 6 * 365 * 86_400_000));
    const notYet = await svc.service.licenses.issue(permit.type, { holder: permit.holder, fields: permit.fields }, new Date(Date.now() + 30 * 86_400_000));
    expect([expired.status, notYet.status]).toEqual(['expired', 'not-yet-valid']);

    const cases: Array<{ name: string; record: LicenseRecord; status: string; text: RegExp; background: string }> = [
      { name: 'valid', record: valid, status: 'valid', text: /^真实有效$/, background: 'rgb(230, 244, 234)' },
      { name: 'revoked', record: revoked, status: 'revoked', text: /^已撤销（\d{4}年\d{1,2}月\d{1,2}日）$/, background: 'rgb(252, 232, 230)' },
      { name: 'superseded', record: first, status: 'superseded', text: /^已被换发的新证替代$/, background: 'rgb(254, 247, 224)' },
      { name: 'expired', record: expired, status: 'expired', text: /^已过期（有效期至\d{4}年\d{1,2}月\d{1,2}日）$/, background: 'rgb(241, 243, 244)' },
      { name: 'not-yet-valid', record: notYet, status: 'not-yet-valid', text: /^尚未生效（自\d{4}年\d{1,2}月\d{1,2}日起有效）$/, background: 'rgb(254, 247, 224)' },
    ];
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    for (const c of cases) {
      const response = await page.goto(c.record.verificationUrl);
      expect(response?.status(), c.name).toBe(200);
      expect(await page.getAttribute('#verdict', 'data-status'), c.name).toBe(c.status);
      expect((await page.textContent('#status')) ?? '', c.name).toMatch(c.text);
      // The stylesheet applied: the banner has its status colour, so the policy's hash matches.
      expect(await page.locator('#verdict').evaluate((el) => getComputedStyle(el).backgroundColor), c.name).toBe(c.background);
      const face = page.locator('#face');
      await face.scrollIntoViewIfNeeded();
      await expect.poll(() => face.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 30_000 }).toBeGreaterThan(500);
      await page.screenshot({ path: path.join(shots, `${c.name}.png`), fullPage: true });
    }
    // The superseded licence's page links to the final version, which is valid.
    await page.goto(first.verificationUrl);
    await page.click('#current');
    expect(page.url()).toBe(third.verificationUrl);
    expect(await page.textContent('#status')).toBe('真实有效');
    expect((await page.textContent('body')) ?? '').toContain('王五智慧供应链有限公司');

    const unknown = await page.goto(`${svc.url}/v/not-a-licence?c=AAAAAAAAAA`);
    expect(unknown?.status()).toBe(400);
    expect(await page.textContent('#status')).toBe('无法核验');
    await page.screenshot({ path: path.join(shots, 'malformed.png'), fullPage: true });
    expect(violations).toEqual([]);
    await page.close();
    console.log(`public page screenshots: ${shots}`);
  });

  it('the holder\'s presentation page shows a QR code that a scanner reads and that opens the licence\'s page', async () => {
    const auth = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
    const res = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth, body: JSON.stringify(sampleBusinessLicence('赵六文化传媒有限公司')) });
    expect(res.status).toBe(201);
    const record = (await res.json()) as LicenseRecord;
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(record.verificationUrl);
    await page.click('#present');
    expect(await page.textContent('#status')).toBe('出示码');
    const qr = path.join(shots, 'presentation-qr.png');
    await page.locator('#qr').screenshot({ path: qr });
    await page.screenshot({ path: path.join(shots, 'presentation.png'), fullPage: true });
    const url = (await run('zbarimg', ['--quiet', '--raw', qr])).stdout.trim();
    expect(url.startsWith(`${svc.url}/v/presented/`)).toBe(true);
    await page.goto(url);
    expect(await page.textContent('#status')).toBe('真实有效');
    expect(await page.textContent('#presented')).toMatch(/^持证人出示的动态码，有效至\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}。$/);
    expect((await page.textContent('body')) ?? '').toContain('赵六文化传媒有限公司');
    await page.screenshot({ path: path.join(shots, 'presented.png'), fullPage: true });
    await page.close();
  });
});
