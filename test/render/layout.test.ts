import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { chineseDate } from '../../src/calendar/dates.js';
import { loadLicenseTypes, type LicenseField, type LicenseType } from '../../src/licenses/types.js';
import { fontsFor, sharedFontkit } from '../../src/render/font-set.js';
import { LayoutOverflowError } from '../../src/render/layout-errors.js';
import { letterNumber, renderLicensePdf, type LicenseContent, type RenderedLicense } from '../../src/render/license-pdf.js';
import { qpdfCheck, writeTemp } from '../helpers/tools.js';
import { flowText, intersects, pdfWords, type PageWords } from './pdf-words.js';

const run = promisify(execFile);
const types = loadLicenseTypes(fileURLToPath(new URL('../../templates', import.meta.url)));
const type = (code: string): LicenseType => types.get(code)!;

/** `length` characters cut from a repeated phrase that carries the punctuation the line breaker handles. */
function longText(length: number, phrase: string): string {
  return phrase.repeat(Math.ceil(length / phrase.length)).slice(0, length);
}

const ADDRESS = '某某省某某市某某区（高新技术产业开发区）某某路1号，某某大厦A座';
const SCOPE = '许可项目：食品销售；第二类增值电信业务。（依法须经批准的项目，经相关部门批准后方可开展经营活动）一般项目：软件开发；信息技术咨询服务；';

/** A value for every field at its limit. */
function maximal(field: LicenseField, i: number): unknown {
  switch (field.type) {
    case 'text':
      return field.multiline ? `${longText(Math.floor(field.maxLength / 2) - 1, SCOPE)}\n${longText(Math.ceil(field.maxLength / 2), ADDRESS)}` : longText(field.maxLength, field.key === 'complaintPhone' ? '0531-12315' : ADDRESS);
    case 'list':
      return Array.from({ length: field.maxItems }, (_, n) => longText(field.maxLength, `第${n + 1}项材料：《食品经营许可申请书》原件（加盖公章），`));
    case 'date':
      return field.when === 'deadline' ? '2026-12-31' : '2026-11-28';
    case 'enum':
      return field.values[i % field.values.length];
    case 'integer':
      return field.max;
    case 'uscc':
      return '91350100M000100Y43';
    case 'citizen-id':
      return '11010519491231002X';
  }
}

function contentFor(t: LicenseType, fields: Record<string, unknown>, holderName: string): LicenseContent {
  const until = t.validity.kind === 'field' ? (fields[t.validity.until] as string | undefined) : t.validity.kind === 'years' ? '2031-11-29' : undefined;
  return {
    type: t,
    identifier: `1.2.156.3005.2.${t.typeCode}.11370500MB0100001H.${t.number.form === 'yearly' ? t.number.prefix : 'JY'}2026000123.001.X`,
    number: t.number.form === 'yearly' ? `${t.number.prefix}2026000123` : 'JY23705000001236',
    holderName,
    holderCode: '91350100M000100Y43',
    holderCodeType: '001',
    fields,
    issuerName: '某某市市场监督管理局（某某市知识产权局）',
    issuerCode: '11370500MB0100001H',
    issuedOn: '2026-11-30',
    ...(t.validity.kind === 'field' ? { validFrom: fields[t.validity.from] as string } : t.validity.kind === 'years' ? { validFrom: '2026-11-30' } : {}),
    ...(until ? { validUntil: until } : {}),
    qrUrl: 'https://zzfw.example.gov.cn/v/1.2.156.3005.2.11370500MB0100001H001.11370500MB0100001H.YYZZ2026000123.001.X?c=AbCdEfGhIj',
    sealDiameterMm: 42,
  };
}

/** Every value the document must print, as printed. */
function printedValues(c: LicenseContent): string[] {
  const values = [c.holderName, c.holderCode, c.identifier, c.issuerName, chineseDate(c.issuedOn)];
  values.push(c.type.layout.style === 'letter' ? letterNumber(c.number) : c.number);
  for (const field of c.type.fields) {
    const v = c.fields[field.key];
    if (v === undefined) continue;
    if (Array.isArray(v)) values.push(...v.map(String));
    else if (field.type === 'date') values.push(chineseDate(String(v)));
    else values.push(...String(v).split('\n'));
  }
  return values.map((v) => v.replace(/\s+/g, ''));
}

interface Checked {
  rendered: RenderedLicense;
  pages: PageWords[];
  text: string;
}

async function renderAndCheck(c: LicenseContent): Promise<Checked> {
  const rendered = await renderLicensePdf(c);
  const file = writeTemp(`${c.type.code}.pdf`, rendered.pdf);
  const check = qpdfCheck(file);
  expect(check.ok, check.output).toBe(true);
  const pages = await pdfWords(file);
  const { pageCount, sealBox, qrBox } = rendered.layout;
  expect(pages).toHaveLength(pageCount);

  // every page numbered 第 i 页 共 N 页
  pages.forEach((page, i) => {
    const all = page.words.map((w) => w.text).join('');
    expect(all).toContain(`第${i + 1}页共${pageCount}页`);
  });

  // every value in full, in reading order, across lines and pages
  const text = flowText(pages, rendered.layout.rightColumnX);
  for (const value of printedValues(c)) expect(text, `${c.type.code}: ${value.slice(0, 20)}…`).toContain(value);

  // nothing under the seal but the issuer and the date it is pressed over; nothing on the QR code; no text on other text
  const underSeal = new Set([c.issuerName, chineseDate(c.issuedOn)]);
  for (const [p, page] of pages.entries()) {
    for (const [i, word] of page.words.entries()) {
      expect(word.x).toBeGreaterThanOrEqual(0);
      expect(word.x + word.width).toBeLessThanOrEqual(page.width);
      if (p === sealBox.pageIndex && !underSeal.has(word.text)) expect(intersects(word, sealBox), `"${word.text}" under the seal`).toBe(false);
      if (p === qrBox.pageIndex) expect(intersects(word, qrBox), `"${word.text}" on the QR code`).toBe(false);
      for (const other of page.words.slice(i + 1)) expect(intersects(word, other), `"${word.text}" overlaps "${other.text}"`).toBe(false);
    }
  }
  // the checks above measure in the same space as the layout: the seal is pressed over the date
  expect(pages[sealBox.pageIndex]!.words.some((w) => w.text === chineseDate(c.issuedOn) && intersects(w, sealBox))).toBe(true);
  // the QR code stays clear of the seal
  if (qrBox.pageIndex === sealBox.pageIndex) expect(intersects(qrBox, sealBox)).toBe(false);
  return { rendered, pages, text };
}

describe('layout', () => {
  beforeAll(async () => {
    await fontsFor(['𠮷']); // the fonts are read once per process; the first test should not pay for it alone
  });

  for (const code of types.keys()) {
    it(`${code}: every field at its maximum length prints in full, clear of the seal, the QR code and other text`, async () => {
      const t = type(code);
      const fields = Object.fromEntries(t.fields.map((f, i) => [f.key, maximal(f, i)]));
      const { rendered } = await renderAndCheck(contentFor(t, fields, longText(100, '𠮷野家（中国）餐饮管理有限公司')));
      expect(rendered.layout.pageCount).toBeLessThanOrEqual(t.layout.maxPages);
    });
  }

  it('a correction notice with 30 materials runs over numbered pages, the seal, date and QR code on the last', async () => {
    const t = type('correction-notice');
    const materials = Array.from({ length: 30 }, (_, i) => `${['营业执照复印件', '法定代表人身份证明', '食品安全管理制度文本', '经营场所平面图'][i % 4]}（第${i + 1}份，须加盖公章，复印件注明“与原件一致”并由经办人签字）`);
    const { rendered, text } = await renderAndCheck(contentFor(t, { matter: '食品经营许可（新办）', applicationNumber: 'SQ2026001132', missingMaterials: materials, deadline: '2026-12-31' }, '王小明'));
    expect(rendered.layout.pageCount).toBeGreaterThan(1);
    expect(rendered.seal.pageIndex).toBe(rendered.layout.pageCount - 1);
    expect(rendered.layout.qrBox.pageIndex).toBe(rendered.layout.pageCount - 1);
    // the deadline follows the last material, and the legal basis is cited
    expect(text.indexOf('2026年12月31日')).toBeGreaterThan(text.indexOf(materials[29]!.replace(/\s+/g, '')));
    expect(text).toContain('《中华人民共和国行政许可法》第三十二条');
  });

  it('a refusal notice states the reasons and the routes of redress with their time limits', async () => {
    const t = type('refusal-notice');
    const { text } = await renderAndCheck(contentFor(t, { matter: '食品经营许可', applicationNumber: 'SQ2026001131', reason: '申请事项依法不需要取得行政许可。', legalBasis: '《中华人民共和国行政许可法》第三十二条第一款第（一）项', remedy: '行政复议机关：某某市人民政府。' }, '王小明'));
    expect(text).toContain('六十日内');
    expect(text).toContain('《中华人民共和国行政复议法》');
    expect(text).toContain('六个月内');
    expect(text).toContain('《中华人民共和国行政诉讼法》');
  });

  it('a business licence with a long business scope keeps the QR code at the top right of its first page and 登记机关 by the seal', async () => {
    const t = type('business-licence');
    const fields = { companyType: '有限责任公司', legalRepresentative: '张三', registeredCapital: '1000万元人民币', establishedOn: '2024-03-01', domicile: ADDRESS, businessScope: longText(600, SCOPE) };
    const { rendered, pages } = await renderAndCheck(contentFor(t, fields, '张三科技有限公司'));
    const { qrBox } = rendered.layout;
    expect(qrBox.pageIndex).toBe(0);
    expect(qrBox.x).toBeGreaterThan(pages[0]!.width / 2);
    expect(qrBox.y).toBeLessThan(pages[0]!.height / 4);
    const last = pages[rendered.layout.pageCount - 1]!;
    const label = last.words.find((w) => w.text === '登记机关')!;
    expect(label.x + label.width).toBeLessThan(rendered.layout.sealBox.x);
  });

  it('text shrinks before it runs on to a further page, never below the floor', async () => {
    const t = type('refusal-notice');
    const base = contentFor(t, { matter: '食品经营许可', applicationNumber: 'SQ1', reason: '理由。', legalBasis: '依据。', remedy: '途径。' }, '王小明');
    const short = await renderLicensePdf(base);
    expect(short.layout).toMatchObject({ pageCount: 1, fontSize: t.layout.fontSize });
    const long = await renderLicensePdf({ ...base, fields: { ...base.fields, reason: longText(500, SCOPE), legalBasis: longText(300, ADDRESS), remedy: longText(300, ADDRESS) } });
    expect(long.layout.fontSize).toBeLessThanOrEqual(t.layout.fontSize);
    expect(long.layout.fontSize).toBeGreaterThanOrEqual(t.layout.minFontSize ?? t.layout.fontSize - 2);
  });

  it('what does not fit in the pages a type allows is refused, naming the field', async () => {
    const t = type('correction-notice');
    const tight: LicenseType = { ...t, layout: { ...t.layout, maxPages: 1 } };
    const materials = Array.from({ length: 30 }, () => longText(200, ADDRESS));
    const attempt = renderLicensePdf(contentFor(tight, { matter: '食品经营许可', applicationNumber: 'SQ1', missingMaterials: materials, deadline: '2026-12-31' }, '王小明'));
    await expect(attempt).rejects.toThrow(LayoutOverflowError);
    await expect(attempt).rejects.toMatchObject({ field: 'fields.missingMaterials' });
  });

  it('prints a CJK Extension B character with the second font, which pdftotext reads back', async () => {
    const t = type('acceptance-notice');
    const rendered = await renderLicensePdf(contentFor(t, { matter: '个体工商户设立登记', applicationNumber: 'SQ1', receivedOn: '2026-11-28', promisedDays: 3 }, '𠮷田𠀋一'));
    const file = writeTemp('extb.pdf', rendered.pdf);
    const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', file, '-']);
    expect(stdout).toContain('𠮷田𠀋一');
    const fonts = (await run('pdffonts', [file])).stdout;
    expect(fonts).toMatch(/HanaMinB/);
    expect(fonts).toMatch(/UMing/);
    // both are subsets, not the 20 and 30 MB files
    expect(rendered.pdf.length).toBeLessThan(200_000);
  });

  it('draws the Extension B glyph, not only its text: poppler puts ink where pdftotext places it', async () => {
    const t = type('acceptance-notice');
    const rendered = await renderLicensePdf(contentFor(t, { matter: '个体工商户设立登记', applicationNumber: 'SQ1', receivedOn: '2026-11-28', promisedDays: 3 }, '𠮷'));
    const file = writeTemp('extb-ink.pdf', rendered.pdf);
    const word = (await pdfWords(file))[0]!.words.find((w) => w.text === '𠮷：' || w.text === '𠮷')!;
    expect(word).toBeDefined();
    const dpi = 144;
    const scale = dpi / 72;
    const prefix = file.replace(/\.pdf$/, '');
    await run('pdftoppm', ['-r', String(dpi), '-gray', '-f', '1', '-l', '1', '-singlefile', file, prefix]);
    const pgm = readFileSync(`${prefix}.pgm`);
    const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.toString('latin1', 0, 40))!;
    const [width, offset] = [Number(header[1]), header[0].length];
    // the first character's square: the width of one em at the word's height
    let dark = 0;
    for (let y = Math.ceil(word.y * scale); y < Math.floor((word.y + word.height) * scale); y++) {
      for (let x = Math.ceil(word.x * scale); x < Math.floor((word.x + word.height * 0.9) * scale); x++) if (pgm[offset + y * width + x]! < 160) dark++;
    }
    expect(dark).toBeGreaterThan(30);
  });

  it('measures text as pdf-lib draws it', async () => {
    const fonts = await fontsFor(['𠮷']);
    const doc = await PDFDocument.create();
    doc.registerFontkit(sharedFontkit);
    const song = await doc.embedFont(fonts.song.ttf, { subset: true });
    const sample = `${SCOPE}${ADDRESS}AVAWAY Te 1.2.156.3005.2`;
    expect(fonts.width(sample, 12)).toBeCloseTo(song.widthOfTextAtSize(sample, 12), 6);
  });

  it('carries the GB/T 36903 metadata in the XMP stream of the catalog', async () => {
    const t = type('food-business-permit');
    const c = contentFor(t, { legalRepresentative: '王小明', premises: '某某路8号', mainBusiness: '餐饮服务经营者', businessItems: '热食类食品制售' }, '王小明餐饮店 <&>');
    const rendered = await renderLicensePdf(c);
    const doc = await PDFDocument.load(rendered.pdf);
    const stream = doc.context.lookup(doc.catalog.get(PDFName.of('Metadata')));
    if (!(stream instanceof PDFRawStream)) throw new Error('no /Metadata stream in the catalog');
    expect(stream.dict.get(PDFName.of('Subtype'))).toBe(PDFName.of('XML'));
    const packet = Buffer.from(stream.contents).toString('utf8');
    expect(packet).toContain('<lic:Number>JY23705000001236</lic:Number>');
    expect(packet).toContain(`<lic:Identifier>${c.identifier}</lic:Identifier>`);
    expect(packet).toContain('<lic:Holder>王小明餐饮店 &lt;&amp;&gt;</lic:Holder>');
    expect(packet).toContain('<lic:IssueDate>2026-11-30</lic:IssueDate>');
    expect(packet).toContain('<lic:ValidUntil>2031-11-29</lic:ValidUntil>');
    // well-formed XML, read back by an independent parser
    const file = writeTemp('xmp.xml', Buffer.from(packet));
    const script = 'import sys, xml.dom.minidom; d = xml.dom.minidom.parse(sys.argv[1]); print(d.getElementsByTagName("lic:TypeCode")[0].firstChild.data, d.getElementsByTagName("lic:Holder")[0].firstChild.data)';
    const { stdout } = await run('python3', ['-c', script, file]);
    expect(stdout.trim()).toBe(`${t.typeCode} 王小明餐饮店 <&>`);
  });
});
