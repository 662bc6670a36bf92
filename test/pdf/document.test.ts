import { pdfErrorCode } from '../helpers/tools.js';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { IncrementalUpdate } from '../../src/pdf/incremental.js';
import { decodeStream } from '../../src/pdf/filters.js';
import { PdfDict, PdfName, PdfStream, PdfString } from '../../src/pdf/objects.js';
import { ObjectParser } from '../../src/pdf/parser.js';
import { appendInfoUpdate, makePdf, qpdfRewrite } from '../helpers/pdfs.js';


/** A minimal classic PDF whose objects are given as strings (object i+1 = objects[i]). */
function handPdf(objects: string[], trailerExtra = ''): Buffer {
  let body = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((obj, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${obj}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) body += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra}>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

describe('object parser', () => {
  it('parses the PDF value syntax', () => {
    const parser = new ObjectParser(Buffer.from('<< /A 1 /B -2.5 /C (a\\(b\\)\\101) /D <48 65 6C6C 6f> /E [1 0 R true null /N#20x] /F << >> >>'));
    const value = parser.parseValue() as PdfDict;
    expect(value.get('A')).toBe(1);
    expect(value.get('B')).toBe(-2.5);
    expect((value.get('C') as PdfString).bytes.toString('latin1')).toBe('a(b)A');
    expect((value.get('D') as PdfString).bytes.toString('latin1')).toBe('Hello');
    const array = value.get('E') as unknown[];
    expect(array[0]).toMatchObject({ num: 1, gen: 0 });
    expect(array[1]).toBe(true);
    expect(array[2]).toBe(null);
    expect((array[3] as PdfName).value).toBe('N x');
  });

  it('rejects nesting beyond the limit instead of overflowing the stack', () => {
    const deep = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(pdfErrorCode(() => new ObjectParser(deep).parseValue())).toBe('LIMIT_EXCEEDED');
  });

  it('reports unterminated strings, arrays and dictionaries as truncated', () => {
    for (const text of ['(abc', '[1 2', '<< /A 1', '<41']) {
      expect(pdfErrorCode(() => new ObjectParser(Buffer.from(text)).parseValue())).toBe('TRUNCATED');
    }
  });
});

describe('PdfDocument', () => {
  it('reads a classic xref file and its pages', async () => {
    const doc = PdfDocument.load(await makePdf(3));
    expect(doc.lastSectionKind).toBe('table');
    expect(doc.pages()).toHaveLength(3);
    expect(doc.pages()[0]!.mediaBox).toEqual([0, 0, 595.28, 841.89]);
  });

  it('reads xref streams and object streams written by qpdf', async () => {
    const bytes = qpdfRewrite(await makePdf(5), ['--object-streams=generate']);
    const doc = PdfDocument.load(bytes);
    expect(doc.lastSectionKind).toBe('stream');
    expect(doc.pages()).toHaveLength(5);
    expect([...Array(doc.size).keys()].some((n) => doc.entry(n)?.kind === 'compressed')).toBe(true);
  });

  it('follows /Prev through earlier incremental updates', async () => {
    const bytes = appendInfoUpdate(await makePdf(2), 'Updated');
    const doc = PdfDocument.load(bytes);
    expect(doc.sections).toHaveLength(2);
    const info = doc.resolveDict(doc.trailer.get('Info'));
    expect((info?.get('Title') as PdfString).toText()).toBe('Updated');
  });

  it('refuses what is not a PDF, truncated files and encrypted files with clear codes', async () => {
    expect(pdfErrorCode(() => PdfDocument.load(Buffer.from('hello world, not a pdf at all')))).toBe('NOT_PDF');
    const good = await makePdf(1);
    // half a file has no xref: it is rebuilt by scanning, as other readers do, and says so
    const half = PdfDocument.load(good.subarray(0, Math.floor(good.length / 2)));
    expect(half.reconstructed).toBe(true);
    expect(pdfErrorCode(() => PdfDocument.load(good.subarray(0, 40)))).toMatch(/TRUNCATED|MALFORMED/);
    const encrypted = qpdfRewrite(good, ['--encrypt', 'user', 'owner', '256', '--']);
    expect(pdfErrorCode(() => PdfDocument.load(encrypted))).toBe('ENCRYPTED');
  });

  it('survives a /Prev loop and a page-tree cycle', () => {
    const loop = handPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [2 0 R] /Count 1 >>']);
    const text = loop.toString('latin1');
    const xref = Number(/startxref\n(\d+)/.exec(text)![1]);
    const looped = Buffer.from(text.replace('/Root 1 0 R', `/Root 1 0 R /Prev ${xref}`), 'latin1');
    const doc = PdfDocument.load(looped);
    expect(doc.sections).toHaveLength(1);
    expect(pdfErrorCode(() => doc.pages())).toBe('MALFORMED');
  });

  it('finds objects by scanning when xref offsets are wrong', () => {
    const good = handPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>']);
    const broken = Buffer.from(good.toString('latin1').replace(/^(\d{10}) 00000 n/m, (line) => line).replace(/0000000009 00000 n/, '0000000003 00000 n'), 'latin1');
    const doc = PdfDocument.load(broken);
    expect(doc.pages()).toHaveLength(1);
    expect(doc.repaired).toBe(true);
  });

  it('bounds what a compressed stream may inflate to', () => {
    const bomb = new PdfStream(new PdfDict([['Filter', PdfName.of('FlateDecode')]]), deflateSync(Buffer.alloc(50 * 1024 * 1024)));
    expect(bomb.raw.length).toBeLessThan(100_000);
    expect(pdfErrorCode(() => decodeStream(bomb, 10 * 1024 * 1024))).toBe('LIMIT_EXCEEDED');
    expect(decodeStream(bomb).length).toBe(50 * 1024 * 1024);
  });

  it('rebuilds the xref when startxref points nowhere or at the wrong place', async () => {
    const good = await makePdf(2);
    for (const value of ['99999999', '17']) {
      const bad = Buffer.from(good.toString('latin1').replace(/startxref\s+\d+/, `startxref\n${value}`), 'latin1');
      const doc = PdfDocument.load(bad);
      expect(doc.reconstructed).toBe(true);
      expect(doc.pages()).toHaveLength(2);
    }
  });

  it('rebuilds a file with bytes before its header, revision by revision', async () => {
    const twoRevisions = appendInfoUpdate(await makePdf(1), 'second');
    const shifted = Buffer.concat([Buffer.from('junk before the header\n'.repeat(4)), twoRevisions]);
    const doc = PdfDocument.load(shifted);
    expect(doc.reconstructed).toBe(true);
    expect(doc.revisions).toHaveLength(2);
    expect(doc.revisions[0]!.end).toBe(shifted.length - (twoRevisions.length - PdfDocument.load(twoRevisions).revisions[0]!.end));
    expect(doc.pages()).toHaveLength(1);
    expect((doc.resolveDict(doc.trailer.get('Info'))?.get('Title') as PdfString).toText()).toBe('second');
  });

  it('takes a linearized file as one revision, and an update to it as a second', async () => {
    const linearized = qpdfRewrite(await makePdf(3), ['--linearize']);
    const doc = PdfDocument.load(linearized);
    expect(doc.sections).toHaveLength(2); // the first-page section and the main one
    expect(doc.revisions).toHaveLength(1);
    expect(doc.revisions[0]!.end).toBeGreaterThan(linearized.length - 3);
    expect(doc.pages()).toHaveLength(3);
    const update = new IncrementalUpdate(doc);
    update.set(doc.rootRef, doc.catalog().clone().set('Lang', PdfString.fromText('zh-CN')));
    const updated = PdfDocument.load(Buffer.concat([linearized, update.write()]));
    expect(updated.revisions).toHaveLength(2);
    expect(updated.revisions[0]!.end).toBe(doc.revisions[0]!.end);
    expect(updated.pages()).toHaveLength(3);
  });

  it('resolves every object as each revision left it', async () => {
    const base = await makePdf(1);
    const updated = appendInfoUpdate(appendInfoUpdate(base, 'first'), 'second');
    const doc = PdfDocument.load(updated);
    expect(doc.revisions).toHaveLength(3);
    const infoNum = (doc.trailer.get('Info') as { num: number }).num;
    expect(doc.view(0).getObject(infoNum)).toBeUndefined();
    expect(((doc.view(2).getObject(infoNum) as PdfDict).get('Title') as PdfString).toText()).toBe('second');
    // one parse: an object no revision changed is the same parsed value in every view
    const rootNum = doc.rootRef.num;
    expect(doc.view(0).getObject(rootNum)).toBe(doc.view(2).getObject(rootNum));
  });
});
