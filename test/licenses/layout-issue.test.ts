import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PDFDict, PDFDocument, PDFName } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { beijingDateFromNow } from '../helpers/licences.js';
import { startService, type RunningService } from '../helpers/service.js';
import { qpdfCheck, tempDir, writeTemp } from '../helpers/tools.js';

const run = promisify(execFile);
let svc: RunningService;

/** The project's templates, except that a refusal notice may take one page only: what does not fit must be refused. */
function templatesWithOnePageRefusals(): string {
  const dir = path.join(tempDir('templates'), 'templates');
  cpSync(fileURLToPath(new URL('../../templates', import.meta.url)), dir, { recursive: true });
  const file = path.join(dir, 'refusal-notice', 'type.json');
  const type = JSON.parse(readFileSync(file, 'utf8')) as { layout: Record<string, unknown> };
  type.layout.maxPages = 1;
  writeFileSync(file, JSON.stringify(type));
  return dir;
}

beforeAll(async () => {
  svc = await startService({ TEMPLATES_DIR: templatesWithOnePageRefusals() });
});
afterAll(async () => svc?.close());

const auth = (): Record<string, string> => ({ authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' });

async function issue(body: unknown): Promise<Response> {
  return fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
}

async function pdfOf(record: LicenseRecord): Promise<string> {
  const res = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/pdf?purpose=development`, { headers: auth() });
  return writeTemp('issued.pdf', Buffer.from(await res.arrayBuffer()));
}

/** The indexes of the pages that carry a signature widget. */
async function sealPages(file: string): Promise<number[]> {
  const doc = await PDFDocument.load(readFileSync(file));
  return doc.getPages().flatMap((page, i) => {
    const annots = page.node.Annots();
    const widgets = annots ? annots.asArray().map((ref) => doc.context.lookup(ref, PDFDict)).filter((a) => a.get(PDFName.of('Subtype')) === PDFName.of('Widget')) : [];
    return widgets.length > 0 ? [i] : [];
  });
}

const applicant = { name: '王小明', code: '11010519491231002X', codeType: '111' };

describe('issuing documents whose text must all print', () => {
  it('a correction notice with 30 materials is sealed on its last page with every material and the deadline in it', async () => {
    const materials = Array.from({ length: 30 }, (_, i) => `${['营业执照复印件', '法定代表人身份证明', '食品安全管理制度文本', '经营场所平面图', '从业人员健康证明'][i % 5]}（第${i + 1}项，复印件须注明“与原件一致”并加盖公章）`);
    const deadline = beijingDateFromNow(20);
    const res = await issue({ type: 'correction-notice', holder: applicant, fields: { matter: '食品经营许可（新办）', applicationNumber: 'SQ2026001132', missingMaterials: materials, deadline } });
    expect(res.status, await res.clone().text()).toBe(201);
    const file = await pdfOf((await res.json()) as LicenseRecord);
    const check = qpdfCheck(file);
    expect(check.ok, check.output).toBe(true);
    const text = (await run('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout.replace(/\s+/g, '');
    for (const material of materials) expect(text).toContain(material);
    const [y, m, d] = deadline.split('-').map(Number);
    expect(text).toContain(`请于${y}年${m}月${d}日前`);
    const pages = Number(/共(\d+)页/.exec(text)![1]);
    expect(pages).toBeGreaterThan(1);
    for (let i = 1; i <= pages; i++) expect(text).toContain(`第${i}页共${pages}页`);
    // the seal's widget is on the last page, and only there
    expect(await sealPages(file)).toEqual([pages - 1]);
  });

  it('a name with a CJK Extension B character is printed with the second font', async () => {
    const res = await issue({ type: 'acceptance-notice', holder: { ...applicant, name: '𠮷田𠀋一' }, fields: { matter: '个体工商户设立登记', applicationNumber: 'SQ2026001133', receivedOn: beijingDateFromNow(0), promisedDays: 3 } });
    expect(res.status, await res.clone().text()).toBe(201);
    const file = await pdfOf((await res.json()) as LicenseRecord);
    expect((await run('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout).toContain('𠮷田𠀋一');
    expect((await run('pdffonts', [file])).stdout).toMatch(/HanaMinB/);
    expect(qpdfCheck(file).ok).toBe(true);
  });

  it('refuses with 422 naming the field a character no embedded font draws (emoji)', async () => {
    const res = await issue({ type: 'acceptance-notice', holder: { ...applicant, name: '王小明😀' }, fields: { matter: '设立登记🏢', applicationNumber: 'SQ2026001134', receivedOn: beijingDateFromNow(0), promisedDays: 3 } });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = (await res.json()) as { type: string; problems: Array<{ field: string; message: string }> };
    expect(problem.type).toBe('/problems/invalid-license-fields');
    expect(problem.problems).toEqual(
      expect.arrayContaining([
        { field: 'holder.name', message: expect.stringContaining('U+1F600') },
        { field: 'fields.matter', message: expect.stringContaining('U+1F3E2') },
      ]),
    );
  });

  it('refuses with 422 naming the field what cannot fit in the pages the type allows, and issues nothing', async () => {
    const reason = '经审查，申请人提交的材料显示，申请事项依法不需要取得行政许可，'.repeat(16).slice(0, 500);
    const body = { type: 'refusal-notice', holder: applicant, fields: { matter: '食品经营许可', applicationNumber: 'SQ2026001135', reason, legalBasis: '《中华人民共和国行政许可法》第三十二条第一款第（一）项。'.repeat(10).slice(0, 300), remedy: '行政复议机关：某某市人民政府，地址：某某市某某路1号。'.repeat(12).slice(0, 300) } };
    const res = await issue(body);
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { problems: Array<{ field: string; message: string }> };
    expect(problem.problems).toHaveLength(1);
    expect(problem.problems[0]!.field).toMatch(/^fields\.(reason|legalBasis|remedy)$/);
    expect(problem.problems[0]!.message).toMatch(/does not fit on the 1 page/);
  });
});
