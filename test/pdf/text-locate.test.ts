import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import {
  PDFDocument,
  StandardFonts,
  concatTransformationMatrix,
  degrees,
  drawObject,
  popGraphicsState,
  pushGraphicsState,
  type PDFFont,
} from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { parseCMap } from '../../src/pdf/cmap.js';
import { ContentReader } from '../../src/pdf/content-tokens.js';
import { PdfDocument } from '../../src/pdf/document.js';
import { PdfError } from '../../src/pdf/errors.js';
import { glyphNameToUnicode, standardMetrics } from '../../src/pdf/font-encoding.js';
import { decodeStream } from '../../src/pdf/filters.js';
import { PdfDict, PdfName, PdfString, type PdfRef, type PdfStream, type PdfValue } from '../../src/pdf/objects.js';
import { ByteSink, writeValue } from '../../src/pdf/serialize.js';

import { findText, type TextHit, type TextLocateLimits } from '../../src/pdf/text-locate.js';

// ---------------------------------------------------------------------------------------------
// Helpers

type Box = [number, number, number, number];

/** Width of `text` in a pdf-lib standard font as drawn by drawText: glyph by glyph, no kerning. */
function drawnWidth(font: PDFFont, text: string, size: number): number {
  let width = 0;
  for (const ch of text) width += font.widthOfTextAtSize(ch, size);
  return width;
}

function expectBox(actual: Box, expected: Box, tolerance: number): void {
  actual.forEach((value, i) => {
    if (Math.abs(value - expected[i]!) > tolerance) {
      throw new Error(`box [${actual.map((v) => v.toFixed(2)).join(', ')}] is not within ${tolerance} of [${expected.map((v) => v.toFixed(2)).join(', ')}]`);
    }
  });
}

function mustFind(doc: PdfDocument, needle: string, limits?: TextLocateLimits): TextHit {
  const hit = findText(doc, needle, limits);
  if (!hit) throw new Error(`"${needle}" not found`);
  return hit;
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof PdfError) return err.code;
    throw err;
  }
  return undefined;
}

interface PdftotextWord {
  page: number;
  text: string;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  pageHeight: number;
}

/** Words with their boxes per `pdftotext -bbox` (top-left origin of the media box, as displayed). */
function pdftotextWords(pdf: Buffer): PdftotextWord[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'text-locate-'));
  const file = path.join(dir, 'in.pdf');
  writeFileSync(file, pdf);
  const html = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8' });
  const words: PdftotextWord[] = [];
  let page = -1;
  let pageHeight = 0;
  const pattern = /<page width="([\d.]+)" height="([\d.]+)">|<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g;
  for (let m = pattern.exec(html); m; m = pattern.exec(html)) {
    if (m[1]) {
      page++;
      pageHeight = Number(m[2]);
      continue;
    }
    words.push({ page, pageHeight, xMin: Number(m[3]), yMin: Number(m[4]), xMax: Number(m[5]), yMax: Number(m[6]), text: m[7]! });
  }
  return words;
}

/** pdftotext's box of a word, in user space of an unrotated page whose media box starts at 0,0. */
function pdftotextUserBox(pdf: Buffer, word: string): Box {
  const found = pdftotextWords(pdf).find((w) => w.text === word);
  if (!found) throw new Error(`pdftotext found no word "${word}"`);
  return [found.xMin, found.pageHeight - found.yMax, found.xMax, found.pageHeight - found.yMin];
}

type HandObject = string | { dict: string; data: Buffer | string };

/** A classic-xref PDF from hand-written objects (object i+1 = objects[i]; 1 must be the catalog). */
function handPdf(objects: HandObject[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  const push = (b: Buffer): void => {
    parts.push(b);
    length += b.length;
  };
  objects.forEach((obj, i) => {
    offsets.push(length);
    if (typeof obj === 'string') {
      push(Buffer.from(`${i + 1} 0 obj\n${obj}\nendobj\n`, 'latin1'));
    } else {
      const data = typeof obj.data === 'string' ? Buffer.from(obj.data, 'latin1') : obj.data;
      push(Buffer.from(`${i + 1} 0 obj\n<< ${obj.dict} /Length ${data.length} >>\nstream\n`, 'latin1'));
      push(data);
      push(Buffer.from('\nendstream\nendobj\n', 'latin1'));
    }
  });
  const xref = length;
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) tail += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
}

const HELVETICA_OBJECT = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';

interface HandPage {
  content: HandObject | HandObject[];
  resources?: string;
  extra?: string;
}

/**
 * A PDF whose pages are given by their content (string/stream objects) and resources. Object 3 is
 * Helvetica (WinAnsi); further objects (`more`) are numbered from 4 + page objects.
 */
function handDoc(pages: HandPage[], more: HandObject[] = []): Buffer {
  const objects: HandObject[] = ['<< /Type /Catalog /Pages 2 0 R >>', '', HELVETICA_OBJECT];
  const firstMore = 4;
  const kids: number[] = [];
  let next = firstMore + more.length;
  const pageObjects: HandObject[] = [];
  for (const page of pages) {
    const pageNum = next++;
    kids.push(pageNum);
    const contents = Array.isArray(page.content) ? page.content : [page.content];
    const refs: number[] = [];
    const contentObjects: HandObject[] = [];
    for (const c of contents) {
      refs.push(next++);
      contentObjects.push(typeof c === 'string' ? { dict: '', data: c } : c);
    }
    const contentsValue = refs.length === 1 ? `${refs[0]} 0 R` : `[${refs.map((r) => `${r} 0 R`).join(' ')}]`;
    pageObjects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources << ${page.resources ?? '/Font << /F1 3 0 R >>'} >> /Contents ${contentsValue} ${page.extra ?? ''} >>`,
      ...contentObjects,
    );
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  return handPdf([...objects, ...more, ...pageObjects]);
}

function flate(data: string | Buffer): HandObject {
  return { dict: '/Filter /FlateDecode', data: deflateSync(typeof data === 'string' ? Buffer.from(data, 'latin1') : data) };
}

/**
 * Appends an incremental update to a pdf-lib file (classic xref) that redefines objects: streams
 * (raw, unfiltered data) and plain objects (written as given).
 */
function appendUpdate(base: Buffer, streams: Map<number, Buffer>, plain: Map<number, string> = new Map()): Buffer {
  const text = base.toString('latin1');
  const startxref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text)![1]);
  const trailer = text.slice(text.lastIndexOf('trailer'));
  const size = Number(/\/Size (\d+)/.exec(trailer)![1]);
  const root = /\/Root (\d+ \d+ R)/.exec(trailer)![1]!;
  const parts: Buffer[] = [base, Buffer.from('\n')];
  let length = base.length + 1;
  const offsets = new Map<number, number>();
  const push = (b: Buffer): void => {
    parts.push(b);
    length += b.length;
  };
  for (const [num, data] of streams) {
    offsets.set(num, length);
    push(Buffer.from(`${num} 0 obj\n<< /Length ${data.length} >>\nstream\n`, 'latin1'));
    push(data);
    push(Buffer.from('\nendstream\nendobj\n', 'latin1'));
  }
  for (const [num, body] of plain) {
    offsets.set(num, length);
    push(Buffer.from(`${num} 0 obj\n${body}\nendobj\n`, 'latin1'));
  }
  const xref = length;
  let tail = 'xref\n';
  for (const [num, offset] of offsets) tail += `${num} 1\n${String(offset).padStart(10, '0')} 00000 n\r\n`;
  tail += `trailer\n<< /Size ${size} /Root ${root} /Prev ${startxref} >>\nstartxref\n${xref}\n%%EOF\n`;
  push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
}

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Extracts the first face of a TrueType collection as a standalone sfnt (tables copied as they are). */
function firstFaceOfCollection(ttc: Buffer): Buffer {
  if (ttc.toString('latin1', 0, 4) !== 'ttcf') return ttc;
  if (ttc.readUInt32BE(8) < 1) throw new Error('empty font collection');
  const face = ttc.readUInt32BE(12);
  const numTables = ttc.readUInt16BE(face + 4);
  const headerLength = 12 + 16 * numTables;
  const tables = Array.from({ length: numTables }, (_, i) => {
    const record = face + 12 + 16 * i;
    return { record, offset: ttc.readUInt32BE(record + 8), length: ttc.readUInt32BE(record + 12) };
  });
  const total = tables.reduce((sum, t) => sum + ((t.length + 3) & ~3), headerLength);
  const out = Buffer.alloc(total);
  ttc.copy(out, 0, face, face + 12); // sfnt version, numTables, searchRange, entrySelector, rangeShift
  let pos = headerLength;
  tables.forEach((t, i) => {
    const record = 12 + 16 * i;
    ttc.copy(out, record, t.record, t.record + 8); // tag and checksum
    out.writeUInt32BE(pos, record + 8);
    out.writeUInt32BE(t.length, record + 12);
    ttc.copy(out, pos, t.offset, t.offset + t.length);
    pos += (t.length + 3) & ~3;
  });
  return out;
}

const SONG_COLLECTION = '/usr/share/fonts/truetype/arphic/uming.ttc';

/** The Song face: from src/render/fonts.ts when it exists, else extracted here. */
async function songFont(): Promise<Buffer> {
  const helper = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/render/fonts.ts');
  if (existsSync(helper)) {
    try {
      const mod = (await import(pathToFileURL(helper).href)) as { loadSongFont?: () => Promise<{ ttf: Buffer }> };
      const loaded = await mod.loadSongFont?.();
      const tag = loaded && Buffer.isBuffer(loaded.ttf) ? loaded.ttf.toString('latin1', 0, 4) : '';
      if (tag === '\x00\x01\x00\x00' || tag === 'true' || tag === 'OTTO') return loaded!.ttf;
    } catch {
      // fall through to our own extraction
    }
  }
  return firstFaceOfCollection(readFileSync(SONG_COLLECTION));
}

// ---------------------------------------------------------------------------------------------

describe('content tokens', () => {
  it('reads operands, arrays, dictionaries and operators, and skips inline image data', () => {
    const reader = new ContentReader(
      Buffer.from('/F1 12 Tf [(a\\(b\\)) -250 <41 4> 3.5] TJ << /K [1 2] >> BDC BI /W 1 ID \x00(Tj EI<TjEI\nEI Q % comment\n-.5 +2 cm', 'latin1'),
    );
    const ops: Array<[string, unknown[]]> = [];
    for (let op = reader.next(); op !== null; op = reader.next()) ops.push([op, reader.operands]);
    expect(ops.map(([op]) => op)).toEqual(['Tf', 'TJ', 'BDC', 'BI', 'EI', 'Q', 'cm']);
    expect(ops[2]![1][0]).toBeInstanceOf(PdfDict);
    expect(ops[0]![1]).toEqual([PdfName.of('F1'), 12]);
    const tj = ops[1]![1][0] as unknown[];
    expect((tj[0] as PdfString).bytes.toString('latin1')).toBe('a(b)');
    expect(tj[1]).toBe(-250);
    expect((tj[2] as PdfString).bytes).toEqual(Buffer.from([0x41, 0x40]));
    expect(tj[3]).toBe(3.5);
    expect(ops[6]![1]).toEqual([-0.5, 2]);
  });

  it('survives garbage: stray delimiters, unterminated strings and deep arrays', () => {
    const inputs = [')) ]] >> } { ( never closed', '<zz 41> Tj', '['.repeat(100_000), '/N#4 1 Tf', '\u00ff\u00fe\u0001 Tj'];
    for (const text of inputs) {
      const reader = new ContentReader(Buffer.from(text, 'latin1'));
      let count = 0;
      while (reader.next() !== null) count++;
      expect(count).toBeLessThan(10);
    }
  });
});

describe('CMaps and encodings', () => {
  it('parses bfchar, both forms of bfrange, surrogate pairs and codespace ranges', () => {
    const cmap = parseCMap(
      Buffer.from(
        '/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n' +
          '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n' +
          '2 begincodespacerange <00> <7F> <8140> <FEFE> endcodespacerange\n' +
          '2 beginbfchar <0003> <0020> <0010> <D842DFB7> endbfchar\n' +
          '3 beginbfrange <0020> <0022> <76D6> <0030> <0031> [<7AE0> <FF08>] <D800> <D801> <D83DDE00> endbfrange\n' +
          'endcmap CMapName currentdict /CMap defineresource pop end end',
        'latin1',
      ),
      { remaining: 1000 },
    );
    expect(cmap.lookupUnicode(0x0003, 2)).toBe(' ');
    expect(cmap.lookupUnicode(0x0010, 2)).toBe('\u{20BB7}');
    expect(cmap.lookupUnicode(0x0021, 2)).toBe('\u76D7');
    expect(cmap.lookupUnicode(0x0030, 2)).toBe('章');
    expect(cmap.lookupUnicode(0x0031, 2)).toBe('（');
    expect(cmap.lookupUnicode(0xd801, 2)).toBe('\u{1F601}');
    expect(cmap.lookupUnicode(0x0023, 2)).toBeUndefined();
    const bytes = Buffer.from([0x41, 0x81, 0x40, 0x42]);
    expect(cmap.codeLength(bytes, 0, 2)).toBe(1);
    expect(cmap.codeLength(bytes, 1, 2)).toBe(2);
  });

  it('bounds the entries hostile ranges can create', () => {
    const budget = { remaining: 5000 };
    const cmap = parseCMap(Buffer.from('1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange 1 begincidrange <0000> <FFFF> 0 endcidrange'), budget);
    expect(cmap.unicodeSize + cmap.cidSize).toBe(5000);
    expect(budget.remaining).toBe(0);
  });

  it('maps glyph names to Unicode', () => {
    expect(glyphNameToUnicode('quoteright')).toBe('\u2019');
    expect(glyphNameToUnicode('uni76D67AE0')).toBe('盖章');
    expect(glyphNameToUnicode('u1F600')).toBe('\u{1F600}');
    expect(glyphNameToUnicode('f_f_i')).toBe('ffi');
    expect(glyphNameToUnicode('a.sc')).toBe('a');
    expect(glyphNameToUnicode('g123')).toBeUndefined();
    expect(glyphNameToUnicode('.notdef')).toBeUndefined();
  });

  it('has the standard 14 widths pdf-lib uses for printable ASCII', async () => {
    const pdf = await PDFDocument.create();
    const fonts: Array<[string, StandardFonts]> = [
      ['Helvetica', StandardFonts.Helvetica],
      ['Helvetica-Bold', StandardFonts.HelveticaBold],
      ['Times-Roman', StandardFonts.TimesRoman],
      ['Times-Bold', StandardFonts.TimesRomanBold],
      ['Courier', StandardFonts.Courier],
    ];
    for (const [name, standard] of fonts) {
      const font = await pdf.embedFont(standard);
      const metrics = standardMetrics(name);
      for (let c = 0x20; c < 0x7f; c++) {
        const ch = String.fromCharCode(c);
        expect([name, ch, metrics.width(ch)]).toEqual([name, ch, font.widthOfTextAtSize(ch, 1000)]);
      }
    }
  });
});

describe('findText on pdf-lib documents', () => {
  it('finds Helvetica text where it was drawn (and where pdftotext sees it)', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const page = pdf.addPage([595, 842]);
    page.drawText('Contract No. 2024-17, page 1', { x: 56, y: 780, size: 14, font });
    page.drawText('Signed for the department: STAMPHERE', { x: 120, y: 230, size: 12, font });
    const bytes = Buffer.from(await pdf.save({ useObjectStreams: false }));
    const doc = PdfDocument.load(bytes);

    const hit = mustFind(doc, 'STAMPHERE');
    const x0 = 120 + drawnWidth(font, 'Signed for the department: ', 12);
    const expected: Box = [x0, 230 - 0.2 * 12, x0 + drawnWidth(font, 'STAMPHERE', 12), 230 + 0.8 * 12];
    expect(hit.pageIndex).toBe(0);
    expectBox(hit.box, expected, 0.01);
    expect(hit.center.x).toBeCloseTo((expected[0] + expected[2]) / 2, 6);
    expect(hit.center.y).toBeCloseTo(842 - (expected[1] + expected[3]) / 2, 6);
    expectBox(hit.box, pdftotextUserBox(bytes, 'STAMPHERE'), 1.5);

    // Across words (white space ignored on both sides) and with a needle spelled with other spaces.
    const phrase = mustFind(doc, 'department:STAMP HERE');
    expect(phrase.box[0]).toBeCloseTo(120 + drawnWidth(font, 'Signed for the ', 12), 6);
    expect(phrase.box[2]).toBeCloseTo(expected[2], 6);
    expect(mustFind(doc, 'No. 2024').pageIndex).toBe(0);
  });

  it('matches text drawn in several runs', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const page = pdf.addPage([595, 842]);
    // One word, one drawText call per letter group (each its own BT/ET, as many generators do).
    const pieces = ['Sea', 'l o', 'f the ', 'Bureau'];
    let x = 200;
    for (const piece of pieces) {
      page.drawText(piece, { x, y: 400, size: 10, font });
      x += drawnWidth(font, piece, 10);
    }
    const bytes = Buffer.from(await pdf.save({ useObjectStreams: false }));
    const doc = PdfDocument.load(bytes);
    const hit = mustFind(doc, 'Seal of the Bureau');
    expectBox(hit.box, [200, 398, x, 408], 0.01);
    expectBox(mustFind(doc, 'theBureau').box, [200 + drawnWidth(font, 'Seal of ', 10), 398, x, 408], 0.01);
    expect(findText(doc, 'Seal of the Bureaux')).toBeNull();
    expect(findText(doc, 'seal of the bureau')).toBeNull(); // case matters
  });

  it('applies cm, form XObject matrices and nested forms with their own resources', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const page = pdf.addPage([595, 842]);
    page.pushOperators(pushGraphicsState(), concatTransformationMatrix(2, 0, 0, 2, 50, 40));
    page.drawText('Scaled', { x: 10, y: 100, size: 10, font });
    page.pushOperators(popGraphicsState());

    const inner = pdf.context.register(
      pdf.context.flateStream('BT /F1 10 Tf 5 5 Td (FORMTEXT) Tj ET', {
        Type: 'XObject',
        Subtype: 'Form',
        BBox: [0, 0, 300, 100],
        Matrix: [2, 0, 0, 2, 0, 0],
        Resources: { Font: { F1: font.ref } },
      }),
    );
    const outer = pdf.context.register(
      pdf.context.flateStream('q 1 0 0 1 10 20 cm /Inner Do Q', {
        Type: 'XObject',
        Subtype: 'Form',
        BBox: [0, 0, 400, 400],
        Matrix: [1, 0, 0, 1, 200, 300],
        Resources: { XObject: { Inner: inner } },
      }),
    );
    const rotated = pdf.context.register(
      pdf.context.stream('BT /F1 10 Tf (ROT) Tj ET', {
        Type: 'XObject',
        Subtype: 'Form',
        BBox: [0, 0, 100, 100],
        Matrix: [0, 1, -1, 0, 400, 100],
        Resources: { Font: { F1: font.ref } },
      }),
    );
    const outerName = page.node.newXObject('Outer', outer);
    const rotatedName = page.node.newXObject('Rot', rotated);
    page.pushOperators(pushGraphicsState(), drawObject(outerName), popGraphicsState(), drawObject(rotatedName));
    const bytes = Buffer.from(await pdf.save({ useObjectStreams: false }));
    const doc = PdfDocument.load(bytes);

    const scaled = mustFind(doc, 'Scaled');
    const scaledBox: Box = [70, 40 + 2 * 98, 70 + 2 * drawnWidth(font, 'Scaled', 10), 40 + 2 * 108];
    expectBox(scaled.box, scaledBox, 0.01);
    expectBox(scaled.box, pdftotextUserBox(bytes, 'Scaled'), 2);

    // Inner text origin (5,5) -> inner /Matrix x2 -> (10,10) -> outer cm -> (20,30) -> outer /Matrix -> (220,330).
    const form = mustFind(doc, 'FORMTEXT');
    const formBox: Box = [220, 330 - 4, 220 + 2 * drawnWidth(font, 'FORMTEXT', 10), 330 + 16];
    expectBox(form.box, formBox, 0.01);
    expectBox(form.box, pdftotextUserBox(bytes, 'FORMTEXT'), 2);

    // Quarter-turn form matrix: text space (x, y) -> (400 - y, 100 + x).
    const rot = mustFind(doc, 'ROT');
    expectBox(rot.box, [392, 100, 402, 100 + drawnWidth(font, 'ROT', 10)], 0.01);
  });

  it('finds CJK text in an embedded subset TrueType font (Type0, Identity-H, ToUnicode)', async () => {
    const pdf = await PDFDocument.create();
    pdf.registerFontkit(fontkit);
    const font = await pdf.embedFont(await songFont(), { subset: true });
    const page = pdf.addPage([595, 842]);
    page.drawText('本合同一式两份，双方各执一份。', { x: 72, y: 700, size: 12, font });
    page.drawText('甲方（盖章）', { x: 300, y: 200, size: 14, font });
    // A department name split over two drawText calls.
    page.drawText('某某市市场', { x: 100, y: 600, size: 16, font });
    page.drawText('监督管理局', { x: 100 + font.widthOfTextAtSize('某某市市场', 16), y: 600, size: 16, font });
    const bytes = Buffer.from(await pdf.save({ useObjectStreams: false }));
    const doc = PdfDocument.load(bytes);
    const fontDict = doc.resolveDict(doc.resolveDict(doc.pages()[0]!.resources?.get('Font'))?.entries.values().next().value);
    expect((fontDict?.get('Subtype') as PdfName).value).toBe('Type0');
    expect((fontDict?.get('Encoding') as PdfName).value).toBe('Identity-H');

    const em = font.widthOfTextAtSize('盖', 14);
    expect(em).toBeCloseTo(14, 6);
    const seal = mustFind(doc, '盖章');
    const sealX = 300 + font.widthOfTextAtSize('甲方（', 14);
    expectBox(seal.box, [sealX, 200 - 2.8, sealX + 2 * em, 200 + 11.2], 0.01);

    // Full-width brackets in the text match ASCII ones in the needle (NFKC), and vice versa.
    const bracketed = mustFind(doc, '(盖章)');
    expectBox(bracketed.box, [300 + font.widthOfTextAtSize('甲方', 14), 197.2, 300 + font.widthOfTextAtSize('甲方（盖章）', 14), 211.2], 0.01);
    expect(mustFind(doc, '（盖章）').box).toEqual(bracketed.box);
    expectBox(bracketed.box, pdftotextUserBox(bytes, '甲方（盖章）').map((v, i) => (i === 0 ? v + font.widthOfTextAtSize('甲方', 14) : v)) as Box, 2);

    const department = mustFind(doc, '某某市市场监督管理局');
    const departmentBox: Box = [100, 600 - 3.2, 100 + font.widthOfTextAtSize('某某市市场监督管理局', 16), 600 + 12.8];
    expectBox(department.box, departmentBox, 0.01);
    expectBox(department.box, pdftotextUserBox(bytes, '某某市市场监督管理局'), 2);
    expect(mustFind(doc, '某某市 市场监督\n管理局').box).toEqual(department.box);
    expect(mustFind(doc, '双方各执').pageIndex).toBe(0);
    expect(findText(doc, '某某市税务局')).toBeNull();
  });

  it('reports the centre of a hit on rotated and cropped pages as displayed', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    for (const rotation of [0, 90, 180, 270]) {
      const page = pdf.addPage([595, 842]);
      page.setRotation(degrees(rotation));
      page.drawText(`R${rotation} ANCHOR`, { x: 100, y: 200, size: 12, font });
    }
    const cropped = pdf.addPage([595, 842]);
    cropped.setRotation(degrees(90));
    cropped.setCropBox(20, 30, 500, 700);
    cropped.drawText('CROPPED ANCHOR', { x: 100, y: 200, size: 12, font });
    const bytes = Buffer.from(await pdf.save({ useObjectStreams: false }));
    const doc = PdfDocument.load(bytes);
    const words = pdftotextWords(bytes);

    for (const [index, rotation] of [0, 90, 180, 270].entries()) {
      const hit = mustFind(doc, `R${rotation} ANCHOR`);
      expect(hit.pageIndex).toBe(index);
      const cx = (100 + 100 + drawnWidth(font, `R${rotation} ANCHOR`, 12)) / 2;
      const cy = 200 + 0.3 * 12;
      // By hand: the displayed page is the media box turned clockwise by /Rotate.
      const expected = {
        0: { x: cx, y: 842 - cy },
        90: { x: cy, y: cx },
        180: { x: 595 - cx, y: cy },
        270: { x: 842 - cy, y: 595 - cx },
      }[rotation]!;
      expect(hit.center.x).toBeCloseTo(expected.x, 6);
      expect(hit.center.y).toBeCloseTo(expected.y, 6);

      // pdftotext reports words on the page as displayed: the centre of its two words must match ours.
      const pageWords = words.filter((w) => w.page === index && (w.text === `R${rotation}` || w.text === 'ANCHOR'));
      expect(pageWords).toHaveLength(2);
      const xMid = (Math.min(...pageWords.map((w) => w.xMin)) + Math.max(...pageWords.map((w) => w.xMax))) / 2;
      const yMid = (Math.min(...pageWords.map((w) => w.yMin)) + Math.max(...pageWords.map((w) => w.yMax))) / 2;
      expect(Math.abs(hit.center.x - xMid)).toBeLessThan(1.5);
      expect(Math.abs(hit.center.y - yMid)).toBeLessThan(1.5);
    }

    const crop = mustFind(doc, 'CROPPED ANCHOR');
    expect(crop.pageIndex).toBe(4);
    const ccx = (100 + 100 + drawnWidth(font, 'CROPPED ANCHOR', 12)) / 2;
    const ccy = 200 + 0.3 * 12;
    // /Rotate 90 with crop box [20 30 500 700]: displayed x = y - 30, displayed y = x - 20.
    expect(crop.center.x).toBeCloseTo(ccy - 30, 6);
    expect(crop.center.y).toBeCloseTo(ccx - 20, 6);
  });

  it('returns the first occurrence in page order, and null when the text is absent', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    for (let i = 0; i < 4; i++) {
      const page = pdf.addPage([595, 842]);
      page.drawText(`Page ${i + 1}`, { x: 50, y: 800, size: 10, font });
      if (i >= 2) page.drawText('Seal: SIGNATURE BLOCK', { x: 50 + i * 10, y: 100, size: 10, font });
    }
    const doc = PdfDocument.load(Buffer.from(await pdf.save()));
    const hit = mustFind(doc, 'SIGNATURE BLOCK');
    expect(hit.pageIndex).toBe(2);
    expect(hit.box[0]).toBeCloseTo(70 + drawnWidth(font, 'Seal: ', 10), 6);
    expect(findText(doc, 'Page 4')?.pageIndex).toBe(3);
    expect(findText(doc, 'SIGNATURE BLOCK', { maxPages: 2 })).toBeNull();
    expect(findText(doc, 'NOT ON ANY PAGE')).toBeNull();
    expect(findText(doc, '盖章')).toBeNull();
    expect(findText(doc, '   ')).toBeNull();
  });

  it('scans a 100-page text document for a missing needle', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.';
    for (let i = 0; i < 100; i++) {
      const page = pdf.addPage([595, 842]);
      for (let l = 0; l < 50; l++) page.drawText(line, { x: 40, y: 800 - l * 15, size: 9, font });
    }
    const bytes = Buffer.from(await pdf.save());
    const doc = PdfDocument.load(bytes);
    expect(findText(doc, '某某市市场监督管理局')).toBeNull();
    expect(findText(doc, 'incididunt.Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt!')).toBeNull();
  });
});

describe('findText on hand-written content', () => {
  it('applies Tc, Tw, Tz, Ts and TJ adjustments', () => {
    const content =
      'BT /F1 10 Tf 1 0 0 1 100 700 Tm 2 Tc 3 Tw 200 Tz [(A) -1000 (B)] TJ ( C) Tj (XY) Tj ' +
      '0 Tc 0 Tw 100 Tz 5 Ts 1 0 0 1 100 650 Tm (RISE) Tj ET';
    const doc = PdfDocument.load(handDoc([{ content }]));
    // Th = 2: A is 6.67 wide, advances (6.67 + 2) * 2; TJ -1000 moves right by 10 * 2.
    expectBox(mustFind(doc, 'AB').box, [100, 698, 137.34 + 13.34, 708], 1e-6);
    // The space gets Tc and Tw: (2.78 + 2 + 3) * 2 = 15.56.
    expectBox(mustFind(doc, 'CXY').box, [170.24, 698, 219.36, 708], 1e-6);
    expectBox(mustFind(doc, 'RISE').box, [100, 653, 100 + 7.22 + 6.67 + 2.78 + 6.67, 663], 1e-6);
  });

  it("applies TL, TD, T*, ' and \"", () => {
    const content = "BT /F1 10 Tf 1 0 0 1 100 600 Tm 12 TL (L1) Tj (L2) ' 5 1 (L3) \" 0 -20 TD (L4) Tj T* (L5) Tj ET";
    const doc = PdfDocument.load(handDoc([{ content }]));
    const lines: Array<[string, number]> = [['L1', 600], ['L2', 588], ['L3', 576], ['L4', 556], ['L5', 536]];
    for (const [text, y] of lines) {
      const hit = mustFind(doc, text);
      expect(hit.box[0]).toBeCloseTo(100, 6);
      expect(hit.box[1]).toBeCloseTo(y - 2, 6);
    }
    // L3 was shown with Tc 1: L then 3 each advance one more point.
    expect(mustFind(doc, 'L3').box[2]).toBeCloseTo(100 + 5.56 + 1 + 5.56, 6);
  });

  it('decodes simple fonts: /Differences with glyph names, ToUnicode, MacRoman, /Widths', () => {
    const toUnicode = '1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfchar <42> <7AE0> endbfchar';
    const doc = PdfDocument.load(
      handDoc(
        [
          {
            content: 'BT /F2 20 Tf 1 0 0 1 50 400 Tm (ABCd) Tj /F3 10 Tf 1 0 0 1 50 300 Tm <8A> Tj ET',
            resources: '/Font << /F2 4 0 R /F3 6 0 R >>',
          },
        ],
        [
          '<< /Type /Font /Subtype /Type1 /BaseFont /Custom /FirstChar 65 /LastChar 100 ' +
            '/Widths [500 600 250 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 400] ' +
            '/Encoding << /BaseEncoding /WinAnsiEncoding /Differences [65 /uni76D6 /g7AE0 /quoteright 100 /f_i] >> /ToUnicode 5 0 R >>',
          { dict: '', data: toUnicode },
          '<< /Type /Font /Subtype /TrueType /BaseFont /Arial /Encoding /MacRomanEncoding >>',
        ],
      ),
    );
    const hit = mustFind(doc, '盖章’fi');
    expectBox(hit.box, [50, 396, 50 + (500 + 600 + 250 + 400) * 0.02, 416], 1e-6);
    expect(mustFind(doc, '章').box[0]).toBeCloseTo(60, 6);
    expect(mustFind(doc, 'ä').box).toEqual([50, 298, 50 + 5.56, 308]);
  });

  it('decodes composite fonts: Identity-H with /W and /DW, ToUnicode ranges, surrogates; Identity-V', () => {
    const toUnicode =
      'begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange\n' +
      '2 beginbfchar <0003> <0020> <0010> <D842DFB7> endbfchar\n' +
      '2 beginbfrange <0020> <0022> <76D6> <0030> <0031> [<7AE0> <FF08>] endbfrange endcmap';
    const descendant = (n: number): string =>
      `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Song /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 /W [32 [500 600] 48 49 800] /FontDescriptor ${n} 0 R >>`;
    const doc = PdfDocument.load(
      handDoc(
        [
          {
            content: 'BT /F4 10 Tf 1 0 0 1 100 100 Tm <0031 0020 0030 0010> Tj /F5 10 Tf 1 0 0 1 300 500 Tm <00200030> Tj ET',
            resources: '/Font << /F4 4 0 R /F5 5 0 R >>',
          },
        ],
        [
          '<< /Type /Font /Subtype /Type0 /BaseFont /Song /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>',
          '<< /Type /Font /Subtype /Type0 /BaseFont /Song /Encoding /Identity-V /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>',
          descendant(8),
          flate(toUnicode),
          '<< /Type /FontDescriptor /FontName /Song /Flags 4 /FontBBox [0 -200 1000 800] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>',
        ],
      ),
    );
    // （ (cid 49) is 8 wide, 盖 (cid 32) 5, 章 (cid 48) 8, 𠮷 (cid 16) the default 10.
    expectBox(mustFind(doc, '盖章').box, [108, 98, 121, 108], 1e-6);
    expectBox(mustFind(doc, '(盖章\u{20BB7}').box, [100, 98, 131, 108], 1e-6);
    // Vertical (Identity-V): each glyph hangs below its origin, centred on it; the pen moves down one em.
    const doc2 = PdfDocument.load(
      handDoc(
        [{ content: 'BT /F5 10 Tf 1 0 0 1 300 500 Tm <00200030> Tj ET', resources: '/Font << /F5 4 0 R >>' }],
        [
          '<< /Type /Font /Subtype /Type0 /BaseFont /Song /Encoding /Identity-V /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>',
          descendant(7),
          flate(toUnicode),
          '<< /Type /FontDescriptor /FontName /Song /Flags 4 /FontBBox [0 -200 1000 800] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>',
        ],
      ),
    );
    expectBox(mustFind(doc2, '盖章').box, [296, 480, 304, 500], 1e-6);
  });

  it('finds overlapping partial matches (KMP fallback) at the right glyphs', () => {
    const doc = PdfDocument.load(handDoc([{ content: 'BT /F1 10 Tf 1 0 0 1 10 10 Tm (ABABABAC SESEAL) Tj ET' }]));
    // A, B, S and E are 6.67 wide, C 7.22, space 2.78: ABABAC starts at the third character.
    expectBox(mustFind(doc, 'ABABAC').box, [10 + 2 * 6.67, 8, 10 + 7 * 6.67 + 7.22, 18], 1e-6);
    expect(mustFind(doc, 'SEAL').box[0]).toBeCloseTo(10 + 7 * 6.67 + 7.22 + 2.78 + 2 * 6.67, 6);
  });

  it('decodes predefined Unicode CMaps (UniGB-UCS2-H) without ToUnicode', () => {
    const doc = PdfDocument.load(
      handDoc(
        [{ content: 'BT /F6 12 Tf 1 0 0 1 100 100 Tm <FF0876D67AE0FF09> Tj ET', resources: '/Font << /F6 4 0 R >>' }],
        [
          '<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [5 0 R] >>',
          '<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /DW 1000 >>',
        ],
      ),
    );
    expectBox(mustFind(doc, '(盖章)').box, [100, 97.6, 148, 109.6], 1e-6);
    expectBox(mustFind(doc, '盖章').box, [112, 97.6, 136, 109.6], 1e-6);
  });

  it('reads an array of content streams as one, filtered or not', () => {
    const doc = PdfDocument.load(handDoc([{ content: ['BT /F1 10 Tf 1 0 0 1 30 40 Tm', flate('(SPL) Tj'), '(IT) Tj ET'] }]));
    expectBox(mustFind(doc, 'SPLIT').box, [30, 38, 30 + 6.67 + 6.67 + 5.56 + 2.78 + 6.11, 48], 1e-6);
  });

  it('finds text after inline images with binary data', () => {
    const image = Buffer.concat([
      Buffer.from('q BI /W 4 /H 2 /BPC 8 /CS /G ID ', 'latin1'),
      Buffer.from('(\x00Tj)[EI<', 'latin1'),
      Buffer.from('\nEI Q BT /F1 10 Tf 20 20 Td (AFTER IMAGE) Tj ET', 'latin1'),
    ]);
    const doc = PdfDocument.load(handDoc([{ content: { dict: '', data: image } }]));
    expect(mustFind(doc, 'AFTERIMAGE').box[0]).toBe(20);
  });
});

describe('findText on hostile input', () => {
  it('copes with 200,000 nested q and unbalanced Q', () => {
    const content = `${'q '.repeat(200_000)}BT /F1 12 Tf 10 10 Td (DEEP) Tj ET${' Q'.repeat(200_005)} 2 0 0 2 0 0 cm BT /F1 12 Tf 10 10 Td (AFTER) Tj ET`;
    const doc = PdfDocument.load(handDoc([{ content: flate(content) }]));
    expect(mustFind(doc, 'DEEP').box[0]).toBe(10);
    // The extra Q's pop nothing, so the cm applies to the text after them.
    expect(mustFind(doc, 'AFTER').box[0]).toBe(20);
  });

  it('never throws anything but PdfError on garbage content, and never hangs', () => {
    const rand = random(42);
    for (let round = 0; round < 40; round++) {
      const size = 1 + Math.floor(rand() * 20_000);
      const garbage = Buffer.alloc(size);
      for (let i = 0; i < size; i++) garbage[i] = Math.floor(rand() * 256);
      const doc = PdfDocument.load(handDoc([{ content: { dict: '', data: garbage } }]));
      const code = errorCode(() => findText(doc, 'needle'));
      expect([undefined, 'LIMIT_EXCEEDED']).toContain(code);
    }
    const messy = ')) ] >> } { <zz> [1 2 (x) Tj /F1 (a) Tf /F1 /F2 Tf 1 2 Tm (a) 3 4 Td [ /X 12 ] TJ q 0 0 0 0 0 0 cm (z) Tj Q Q Q\n' +
      'BT /F1 12 Tf 1 0 0 1 40 40 Tm (STILL FOUND) Tj ET';
    const doc = PdfDocument.load(handDoc([{ content: messy }]));
    expect(mustFind(doc, 'STILLFOUND').box[0]).toBe(40);
  });

  it('survives random corruption of real content streams, ToUnicode CMaps and /W arrays', async () => {
    const pdf = await PDFDocument.create();
    pdf.registerFontkit(fontkit);
    const song = await pdf.embedFont(await songFont(), { subset: true });
    const helvetica = await pdf.embedFont(StandardFonts.Helvetica);
    const page = pdf.addPage([595, 842]);
    page.drawText('某某市市场监督管理局（盖章）', { x: 100, y: 600, size: 16, font: song });
    page.drawText('Signed and sealed here', { x: 100, y: 500, size: 12, font: helvetica });
    const bytes = Buffer.from(await pdf.save({ useObjectStreams: false }));
    const doc = PdfDocument.load(bytes);
    const pageInfo = doc.pages()[0]!;
    const contentRefs = doc.resolve(pageInfo.dict.get('Contents')) as PdfRef[];
    const content = Buffer.concat(contentRefs.map((ref) => decodeStream(doc.resolve(ref) as PdfStream)));
    const fonts = doc.resolveDict(pageInfo.resources?.get('Font'))!;
    const type0 = [...fonts.entries.values()].find((ref) => (doc.resolveDict(ref)?.get('Subtype') as PdfName).value === 'Type0') as PdfRef;
    const toUnicodeRef = doc.resolveDict(type0)!.get('ToUnicode') as PdfRef;
    const cmap = decodeStream(doc.resolve(toUnicodeRef) as PdfStream);
    const descendantRef = (doc.resolve(doc.resolveDict(type0)!.get('DescendantFonts')) as PdfRef[])[0]!;
    const descendant = doc.resolveDict(descendantRef)!;
    const widths = doc.resolve(descendant.get('W')) as PdfValue[];

    const rand = random(7);
    const mutate = (data: Buffer): Buffer => {
      const out = Buffer.from(data);
      const edits = 1 + Math.floor(rand() * 6);
      const special = Buffer.from('()[]<>{}/% 0\\\n', 'latin1');
      for (let e = 0; e < edits; e++) {
        out[Math.floor(rand() * out.length)] = rand() < 0.5 ? special[Math.floor(rand() * special.length)]! : Math.floor(rand() * 256);
      }
      return rand() < 0.2 ? out.subarray(0, Math.floor(rand() * out.length)) : out;
    };
    const junk = (): PdfValue => [-1, 1e9, 0.5, PdfName.of('X'), new PdfString(Buffer.from('s')), [], null][Math.floor(rand() * 7)]!;
    const rewrite = (round: number): Buffer => {
      const objects = new Map<number, Buffer>();
      objects.set(contentRefs[0]!.num, round === 0 ? content : mutate(content));
      for (const ref of contentRefs.slice(1)) objects.set(ref.num, Buffer.alloc(0));
      objects.set(toUnicodeRef.num, round === 0 ? cmap : mutate(cmap));
      const w = widths.map((item) => (round > 0 && rand() < 0.1 ? junk() : item));
      const sink = new ByteSink();
      writeValue(sink, descendant.clone().set('W', w));
      return appendUpdate(bytes, objects, new Map([[descendantRef.num, sink.toBuffer().toString('latin1')]]));
    };

    // The harness itself: an unchanged rewrite still finds both texts.
    const same = PdfDocument.load(rewrite(0));
    expect(mustFind(same, '市场监督管理局（盖章）').box[0]).toBeCloseTo(100 + song.widthOfTextAtSize('某某市', 16), 6);
    expect(mustFind(same, 'sealed here').pageIndex).toBe(0);
    for (let round = 1; round <= 300; round++) {
      const hostile = PdfDocument.load(rewrite(round));
      expect(errorCode(() => findText(hostile, '盖章'))).toBeUndefined();
      expect(errorCode(() => findText(hostile, 'sealed here'))).toBeUndefined();
    }
  });

  it('stops at a Do cycle between two form XObjects', () => {
    const doc = PdfDocument.load(
      handDoc(
        [{ content: 'q /FmA Do Q BT /F1 10 Tf 10 10 Td (PAGE TEXT) Tj ET', resources: '/Font << /F1 3 0 R >> /XObject << /FmA 4 0 R >>' }],
        [
          { dict: '/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources << /XObject << /FmB 5 0 R >> /Font << /F1 3 0 R >> >>', data: 'BT /F1 10 Tf 1 0 0 1 300 300 Tm (IN A) Tj ET /FmB Do' },
          { dict: '/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Matrix [1 0 0 1 5 5] /Resources << /XObject << /FmA 4 0 R /FmB 5 0 R >> /Font << /F1 3 0 R >> >>', data: '/FmA Do /FmB Do BT /F1 10 Tf 1 0 0 1 300 300 Tm (IN B) Tj ET' },
        ],
      ),
    );
    expect(findText(doc, 'not there')).toBeNull();
    expect(mustFind(doc, 'IN B').box[0]).toBe(305);
    expectBox(mustFind(doc, 'IN A IN B PAGE TEXT').box, [10, 8, 305 + 19.45, 313], 1e-6);
  });

  it('decodes text of a missing /Font resource with a fallback font', () => {
    const doc = PdfDocument.load(handDoc([{ content: 'BT /F9 10 Tf 50 50 Td (Sealed) Tj ET BT (NO FONT) Tj ET', resources: '' }]));
    const hit = mustFind(doc, 'Sealed');
    expectBox(hit.box, [50, 48, 50 + 6.67 + 5.56 + 5.56 + 2.22 + 5.56 + 5.56, 58], 1e-6);
    expect(findText(doc, 'NOFONT')).not.toBeNull();
  });

  it('skips pages whose content cannot be decoded', () => {
    const doc = PdfDocument.load(
      handDoc([
        { content: { dict: '/Filter /DCTDecode', data: 'BT /F1 10 Tf (ANCHOR) Tj ET' } },
        { content: { dict: '/Filter /FlateDecode', data: 'not zlib data (ANCHOR) Tj' } },
        { content: ['BT /F1 10 Tf 7 7 Td', { dict: '/Filter /LZWDecode', data: '(ANCHOR) Tj ET' }] },
        { content: ['BT /F1 10 Tf 7 7 Td', flate('(ANCHOR) Tj ET')] },
      ]),
    );
    const hit = mustFind(doc, 'ANCHOR');
    expect(hit.pageIndex).toBe(3);
    expect(hit.box[0]).toBe(7);
  });

  it('gives LIMIT_EXCEEDED for too many operators, too much content and too deep forms', () => {
    const busy = PdfDocument.load(handDoc([{ content: `${'q Q '.repeat(1000)}BT /F1 10 Tf (X) Tj ET` }]));
    expect(errorCode(() => findText(busy, 'X', { maxOperators: 1000 }))).toBe('LIMIT_EXCEEDED');
    expect(findText(busy, 'X', { maxOperators: 2010 })).not.toBeNull();
    expect(errorCode(() => findText(busy, 'X', { maxContentBytes: 1000 }))).toBe('LIMIT_EXCEEDED');

    // A zip bomb: 64 MB of spaces in a 64 KB stream, over the default 50 MB per page.
    const bomb = PdfDocument.load(handDoc([{ content: flate(Buffer.alloc(64 * 1024 * 1024, 0x20)) }]));
    expect(errorCode(() => findText(bomb, 'X'))).toBe('LIMIT_EXCEEDED');

    // Form XObjects nested 12 deep, each drawing the next.
    const forms: HandObject[] = [];
    for (let i = 0; i < 12; i++) {
      const next = i < 11 ? `/XObject << /Fm ${5 + i} 0 R >>` : '';
      const data = i < 11 ? '/Fm Do' : 'BT /F1 10 Tf (BOTTOM) Tj ET';
      forms.push({ dict: `/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << ${next} /Font << /F1 3 0 R >> >>`, data });
    }
    const deep = PdfDocument.load(handDoc([{ content: '/Fm Do', resources: '/XObject << /Fm 4 0 R >>' }], forms));
    expect(errorCode(() => findText(deep, 'BOTTOM'))).toBe('LIMIT_EXCEEDED');
    expect(findText(deep, 'BOTTOM', { maxXObjectDepth: 12 })).not.toBeNull();

    // A form drawn over and over counts every time it is drawn.
    const repeated = PdfDocument.load(
      handDoc([{ content: '/Fm Do '.repeat(5000), resources: '/XObject << /Fm 4 0 R >>' }], [{ dict: '/Type /XObject /Subtype /Form /BBox [0 0 1 1]', data: 'q Q '.repeat(500) }]),
    );
    expect(errorCode(() => findText(repeated, 'X'))).toBe('LIMIT_EXCEEDED');
  });
});
