import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLicenseIdentifier } from '../../src/licenses/identifier.js';
import { decodePng } from '../../src/seals/png.js';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { beijingDateFromNow } from '../helpers/licences.js';
import { startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, qpdfCheck, tempDir, writeTemp } from '../helpers/tools.js';

const run = promisify(execFile);
let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

const licence = {
  type: 'business-licence',
  holder: { name: '张三科技有限公司', code: '91350100M000100Y43', codeType: '001' },
  fields: { companyType: '有限责任公司', legalRepresentative: '张三', registeredCapital: '100万元人民币', establishedOn: '2024-03-01', domicile: '某某市某某区某某路1号', businessScope: '软件开发；信息技术咨询服务' },
};

async function issue(body: unknown): Promise<Response> {
  return fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('issuing a license', () => {
  it('renders, seals and records it; independent tools read the text, the seal and the QR code', async () => {
    const res = await issue(licence);
    expect(res.status, await res.clone().text()).toBe(201);
    const record = (await res.json()) as LicenseRecord;
    expect(parseLicenseIdentifier(record.id)).toMatchObject({ typeCode: '11370500MB0100001H001', issuerCode: '11370500MB0100001H', version: '001' });
    expect(record.status).toBe('valid');
    const pdf = Buffer.from(await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: { authorization: `Bearer ${svc.token}` } })).arrayBuffer());
    const file = writeTemp('licence.pdf', pdf);
    const text = (await run('pdftotext', [file, '-'])).stdout;
    expect(text).toContain('营业执照');
    expect(text).toContain('张三科技有限公司');
    expect(text).toContain(record.number);
    const sig = pdfsig(file, nssDbWithRoot(svc.rootPem))[0]!;
    expect(sig.signatureValid && sig.certificateTrusted, sig.raw).toBe(true);
    expect(qpdfCheck(file).ok).toBe(true);
    const dir = tempDir('qr');
    await run('pdftoppm', ['-r', '150', '-png', '-singlefile', file, path.join(dir, 'page')]);
    const decoded = (await run('zbarimg', ['--quiet', '--raw', path.join(dir, 'page.png')])).stdout.trim();
    // The seal lands where the template puts it, in mm from the right and the bottom (A4 landscape).
    const { seal } = (JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../templates/business-licence/type.json'), 'utf8')) as { layout: { seal: { rightMm: number; bottomMm: number } } }).layout;
    const image = decodePng(readFileSync(path.join(dir, 'page.png')));
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const i = (y * image.width + x) * 3;
        if (image.rgb[i]! > 180 && image.rgb[i + 1]! < 90 && image.rgb[i + 2]! < 90) [minX, maxX, minY, maxY] = [Math.min(minX, x), Math.max(maxX, x), Math.min(minY, y), Math.max(maxY, y)];
      }
    }
    const pxPerMm = 150 / 25.4;
    expect(Math.abs((minX + maxX) / 2 - (297 - seal.rightMm) * pxPerMm)).toBeLessThan(6);
    expect(Math.abs((minY + maxY) / 2 - (210 - seal.bottomMm) * pxPerMm)).toBeLessThan(6);
    expect(decoded).toBe(record.verificationUrl);
    expect(decoded).toMatch(/\/v\/.+\?c=[A-Za-z0-9_-]{10}$/);
    const again = (await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}?purpose=development`, { headers: { authorization: `Bearer ${svc.token}` } })).json()) as LicenseRecord;
    expect(again.sha256).toBe(record.sha256);
    expect(readFileSync(file).length).toBeGreaterThan(1000);
  });

  it('issues the notices an office gives, with every missing material listed', async () => {
    const res = await issue({
      type: 'correction-notice',
      holder: { name: '李四', code: '11010519491231002X', codeType: '111' },
      fields: { matter: '食品经营许可', applicationNumber: 'SQ2026000123', missingMaterials: ['营业执照复印件', '食品安全管理制度文本', '经营场所平面图'], deadline: beijingDateFromNow(30) },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const record = (await res.json()) as LicenseRecord;
    const pdf = Buffer.from(await (await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: { authorization: `Bearer ${svc.token}` } })).arrayBuffer());
    const text = (await run('pdftotext', [writeTemp('notice.pdf', pdf), '-'])).stdout;
    for (const item of ['营业执照复印件', '食品安全管理制度文本', '经营场所平面图', '一次性告知通知书']) expect(text).toContain(item);
  });

  it('answers invalid requests with every failing field in one 422', async () => {
    const res = await issue({ ...licence, holder: { name: '', code: '91350100M000100Y44', codeType: '001' }, fields: { ...licence.fields, establishedOn: '2024-02-30', companyType: '公司' } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { problems: Array<{ field: string }> };
    expect(body.problems.map((p) => p.field).sort()).toEqual(['fields.companyType', 'fields.establishedOn', 'holder.code', 'holder.name']);
    expect((await issue({ type: 'no-such-type', holder: licence.holder, fields: {} })).status).toBe(422);
    expect((await issue({ nonsense: true })).status).toBe(400);
    const reader = await svc.service.clients.create('reader', ['lookup'], []);
    const forbidden = await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: { authorization: `Bearer ${reader.token}`, 'content-type': 'application/json' }, body: JSON.stringify(licence) });
    expect(forbidden.status).toBe(403);
  });
});
