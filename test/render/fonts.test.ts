import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument } from 'pdf-lib';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SONG_FONT, FontMissingError, loadSongFont, loadSongFontSync, songFontPath } from '../../src/render/fonts.js';
import { extractTtcFace, FontFormatError } from '../../src/render/sfnt.js';
import { tempDir } from '../helpers/tools.js';

interface Table {
  tag: string;
  checksum: number;
  offset: number;
  length: number;
}

/** The table directory of an sfnt that starts at `at` (0 for a standalone font). */
function directory(font: Buffer, at = 0): Table[] {
  const n = font.readUInt16BE(at + 4);
  return Array.from({ length: n }, (_, i) => {
    const r = at + 12 + 16 * i;
    return { tag: font.toString('latin1', r, r + 4), checksum: font.readUInt32BE(r + 4), offset: font.readUInt32BE(r + 8), length: font.readUInt32BE(r + 12) };
  });
}

/** Sum of big-endian uint32 words over `length` bytes, the last word zero-padded. */
function sum32(data: Buffer, offset: number, length: number): number {
  const padded = Buffer.alloc((length + 3) & ~3);
  data.copy(padded, 0, offset, offset + length);
  let s = 0;
  for (let i = 0; i < padded.length; i += 4) s = (s + padded.readUInt32BE(i)) >>> 0;
  return s;
}

/** Builds a collection by hand: each face a list of [tag, bytes]; equal bytes are stored once. */
function buildTtc(faces: Array<Array<[string, Buffer]>>): Buffer {
  const headerLength = 12 + 4 * faces.length;
  const dirLengths = faces.map((f) => 12 + 16 * f.length);
  let pos = headerLength + dirLengths.reduce((a, b) => a + b, 0);
  const stored = new Map<Buffer, number>();
  const blobs: Buffer[] = [];
  for (const face of faces) {
    for (const [, data] of face) {
      if (stored.has(data)) continue;
      stored.set(data, pos);
      const padded = Buffer.alloc((data.length + 3) & ~3);
      data.copy(padded);
      blobs.push(padded);
      pos += padded.length;
    }
  }
  const head = Buffer.alloc(headerLength);
  head.write('ttcf', 0, 'latin1');
  head.writeUInt32BE(0x00010000, 4);
  head.writeUInt32BE(faces.length, 8);
  const dirs: Buffer[] = [];
  let dirAt = headerLength;
  faces.forEach((face, i) => {
    head.writeUInt32BE(dirAt, 12 + 4 * i);
    const dir = Buffer.alloc(12 + 16 * face.length);
    dir.writeUInt32BE(0x00010000, 0);
    dir.writeUInt16BE(face.length, 4);
    face.forEach(([tag, data], j) => {
      const r = 12 + 16 * j;
      dir.write(tag, r, 'latin1');
      dir.writeUInt32BE(0xdeadbeef, r + 4); // wrong on purpose: the extractor recomputes it
      dir.writeUInt32BE(stored.get(data)!, r + 8);
      dir.writeUInt32BE(data.length, r + 12);
    });
    dirs.push(dir);
    dirAt += dir.length;
  });
  return Buffer.concat([head, ...dirs, ...blobs]);
}

let collection: Buffer;
beforeAll(() => {
  collection = readFileSync(DEFAULT_SONG_FONT);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('extractTtcFace', () => {
  it('turns face 0 of uming.ttc into a valid standalone TrueType font', () => {
    const ttf = extractTtcFace(collection, 0);
    expect(ttf.readUInt32BE(0)).toBe(0x00010000);
    const source = directory(collection, collection.readUInt32BE(12));
    const tables = directory(ttf);
    expect(tables.map((t) => t.tag)).toEqual(source.map((t) => t.tag).filter((tag) => tag !== 'DSIG').sort());
    // header fields for binary search over the directory
    const n = tables.length;
    const entrySelector = Math.floor(Math.log2(n));
    expect(ttf.readUInt16BE(6)).toBe(16 * 2 ** entrySelector);
    expect(ttf.readUInt16BE(8)).toBe(entrySelector);
    expect(ttf.readUInt16BE(10)).toBe(16 * n - 16 * 2 ** entrySelector);

    let end = 12 + 16 * n;
    for (const t of tables) {
      expect(t.offset % 4).toBe(0);
      expect(t.offset).toBeGreaterThanOrEqual(end);
      end = t.offset + t.length;
      const original = source.find((s) => s.tag === t.tag)!;
      expect(t.length).toBe(original.length);
      const copy = Buffer.from(ttf.subarray(t.offset, t.offset + t.length));
      const from = Buffer.from(collection.subarray(original.offset, original.offset + original.length));
      if (t.tag === 'head') {
        copy.writeUInt32BE(0, 8);
        from.writeUInt32BE(0, 8);
      }
      expect(copy.equals(from), `table ${t.tag} is copied unchanged`).toBe(true);
      expect(sum32(copy, 0, copy.length), `checksum of ${t.tag}`).toBe(t.checksum);
    }
    expect(ttf.length).toBe((end + 3) & ~3);
    expect(sum32(ttf, 0, ttf.length)).toBe(0xb1b0afba); // head.checkSumAdjustment balances the file

    const font = fontkit.create(ttf);
    expect(font.familyName).toBe('AR PL UMing CN');
    expect(font.glyphForCodePoint('营'.codePointAt(0)!).id).toBeGreaterThan(0);
    expect(fontkit.create(extractTtcFace(collection, 2)).familyName).toBe('AR PL UMing TW');
  });

  it('copies shared tables into each face, pads odd lengths, sorts the directory and drops DSIG', () => {
    const shared = Buffer.from('shared glyph data'); // 17 bytes: needs padding
    const head = Buffer.alloc(54, 7);
    const faceA: Array<[string, Buffer]> = [
      ['name', Buffer.from('face A')],
      ['glyf', shared],
      ['head', head],
      ['DSIG', Buffer.alloc(8, 1)],
    ];
    const faceB: Array<[string, Buffer]> = [
      ['glyf', shared],
      ['name', Buffer.from('the second face')],
    ];
    const ttc = buildTtc([faceA, faceB]);

    const a = extractTtcFace(ttc, 0);
    expect(directory(a).map((t) => t.tag)).toEqual(['glyf', 'head', 'name']);
    const read = (font: Buffer, tag: string): Buffer => {
      const t = directory(font).find((x) => x.tag === tag)!;
      expect(t.offset % 4).toBe(0);
      const data = Buffer.from(font.subarray(t.offset, t.offset + t.length));
      if (tag === 'head') data.writeUInt32BE(0, 8); // checkSumAdjustment counts as 0
      expect(sum32(data, 0, data.length)).toBe(t.checksum);
      return font.subarray(t.offset, t.offset + t.length);
    };
    expect(read(a, 'glyf').toString()).toBe('shared glyph data');
    expect(read(a, 'name').toString()).toBe('face A');
    expect(read(a, 'head').readUInt32BE(8)).not.toBe(0x07070707);
    expect(sum32(a, 0, a.length)).toBe(0xb1b0afba);
    expect(a.length % 4).toBe(0);

    const b = extractTtcFace(ttc, 1);
    expect(directory(b).map((t) => t.tag)).toEqual(['glyf', 'name']);
    expect(read(b, 'glyf').toString()).toBe('shared glyph data');
    expect(read(b, 'name').toString()).toBe('the second face');
  });

  it('returns a plain font unchanged', () => {
    const ttf = extractTtcFace(collection, 0);
    expect(extractTtcFace(ttf, 0)).toBe(ttf);
    expect(extractTtcFace(ttf, 3)).toBe(ttf);
    const otf = Buffer.concat([Buffer.from('OTTO', 'latin1'), Buffer.alloc(12)]);
    expect(extractTtcFace(otf, 0)).toBe(otf);
  });

  it('rejects missing faces, truncated collections and other files', () => {
    expect(() => extractTtcFace(collection, 4)).toThrow(/4 faces; face 4 does not exist/);
    expect(() => extractTtcFace(collection, -1)).toThrow(FontFormatError);
    expect(() => extractTtcFace(collection.subarray(0, 400), 1)).toThrow(/table directory of face 1 is truncated/);
    expect(() => extractTtcFace(collection.subarray(0, 5_000_000), 0)).toThrow(/beyond the end/);
    expect(() => extractTtcFace(Buffer.from('wOFF0000000000000000'), 0)).toThrow(/not a TrueType\/OpenType font/);
    expect(() => extractTtcFace(Buffer.from('%PDF-1.7'), 0)).toThrow(FontFormatError);
    const badFace = Buffer.from(collection.subarray(0, 2000));
    badFace.writeUInt32BE(0x12345678, badFace.readUInt32BE(12));
    expect(() => extractTtcFace(badFace, 0)).toThrow(/unknown sfnt version/);
  });
});

describe('loadSongFont', () => {
  it('finds UMing by default and loads it once per process', async () => {
    vi.stubEnv('SEAL_FONT_PATH', '');
    expect(songFontPath()).toBe(DEFAULT_SONG_FONT);
    const [first, concurrent] = await Promise.all([loadSongFont(), loadSongFont()]);
    expect(concurrent).toBe(first);
    expect(first.path).toBe(DEFAULT_SONG_FONT);
    expect(first.ttf.readUInt32BE(0)).toBe(0x00010000);
    expect(await loadSongFont()).toBe(first);
    expect(loadSongFontSync()).toBe(first);
  });

  it('honours SEAL_FONT_PATH', async () => {
    const file = path.join(tempDir('font'), 'song.ttf');
    writeFileSync(file, extractTtcFace(collection, 1));
    vi.stubEnv('SEAL_FONT_PATH', file);
    expect(songFontPath()).toBe(file);
    const font = await loadSongFont();
    expect(font.path).toBe(file);
    expect(fontkit.create(font.ttf).familyName).toBe('AR PL UMing HK');
  });

  it('names the Debian package when the font is missing', async () => {
    vi.stubEnv('SEAL_FONT_PATH', '/nonexistent/uming.ttc');
    await expect(loadSongFont()).rejects.toThrow(FontMissingError);
    await expect(loadSongFont()).rejects.toThrow(/\/nonexistent\/uming\.ttc.*fonts-arphic-uming/);
    expect(() => loadSongFontSync()).toThrow(/fonts-arphic-uming/);
  });

  it('refuses a CFF-outline font, which pdf-lib cannot subset', async () => {
    const file = path.join(tempDir('font'), 'cff.otf');
    writeFileSync(file, Buffer.concat([Buffer.from('OTTO', 'latin1'), Buffer.alloc(60)]));
    vi.stubEnv('SEAL_FONT_PATH', file);
    await expect(loadSongFont()).rejects.toThrow(/CFF outlines/);
  });

  it('embeds in a PDF with pdf-lib and fontkit, subset, and pdftotext reads the text back', async () => {
    vi.stubEnv('SEAL_FONT_PATH', '');
    const { ttf } = await loadSongFont();
    const doc = await PDFDocument.create();
    doc.registerFontkit(fontkit);
    const font = await doc.embedFont(ttf, { subset: true });
    const page = doc.addPage([420, 200]);
    page.drawText('营业执照 张三', { x: 40, y: 100, size: 28, font });
    const pdf = Buffer.from(await doc.save());
    expect(pdf.length).toBeLessThan(30_000); // a subset, not the 20 MB face

    const file = path.join(tempDir('font'), 'song.pdf');
    writeFileSync(file, pdf);
    const text = spawnSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    expect(text.status).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout.trim()).toBe('营业执照 张三');
    const fonts = spawnSync('pdffonts', [file], { encoding: 'utf8' });
    expect(fonts.stdout).toMatch(/CID TrueType\s+Identity-H\s+yes/);
  });
});
