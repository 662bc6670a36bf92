import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const run = promisify(execFile);
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
    const pdf = Buffer.from(await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf`, { headers: auth })).arrayBuffer());
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
    await page.screenshot({ path: path.join(tempDir('shots'), 'valid.png') });

    await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/revoke`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: '申请撤回' }) });
    await page.reload();
    expect(await page.textContent('#status')).toMatch(/^已撤销（\d{4}年\d{1,2}月\d{1,2}日）$/);
    await page.close();
  });
});
