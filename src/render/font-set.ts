import fontkit from '@pdf-lib/fontkit';
import type { Font } from '@pdf-lib/fontkit';
import type { PDFDocument } from 'pdf-lib';
import { loadExtBFont, loadSongFont, type SongFont } from './fonts.js';

/** One embedded face, parsed once per process, with its advance widths in thousandths of an em. */
export interface Face {
  readonly name: 'song' | 'extb';
  readonly ttf: Buffer;
  readonly font: Font;
  has(cp: number): boolean;
  /** The advance width of the code point's glyph, per 1000 units of font size. */
  advance(cp: number): number;
}

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];

/** Per face, how many code points' coverage and widths are remembered: every CJK character in use, not whatever a client sends. */
const CACHE_LIMIT = 50_000;

/** Faces by their font bytes, and the parsed fonts by the same bytes as pdf-lib hands them over. */
const faces = new Map<Buffer, Face>();
const parsed = new Map<Uint8Array, Font>();

function faceOf(name: Face['name'], source: SongFont): Face {
  const known = faces.get(source.ttf);
  if (known) return known;
  const { ttf } = source;
  const font = fontkit.create(ttf);
  const scale = 1000 / font.unitsPerEm;
  const advances = new Map<number, number>();
  const covered = new Map<number, boolean>();
  const face: Face = {
    name,
    ttf,
    font,
    has: (cp) => {
      let has = covered.get(cp);
      if (has === undefined) {
        has = font.hasGlyphForCodePoint(cp);
        if (covered.size < CACHE_LIMIT) covered.set(cp, has);
      }
      return has;
    },
    advance: (cp) => {
      let width = advances.get(cp);
      if (width === undefined) {
        width = font.glyphForCodePoint(cp).advanceWidth * scale;
        if (advances.size < CACHE_LIMIT) advances.set(cp, width);
      }
      return width;
    },
  };
  faces.set(source.ttf, face);
  parsed.set(ttf, font);
  return face;
}

/**
 * What pdf-lib is given as fontkit: a face this process has parsed already is handed back as it
 * is, so embedding a font in a document costs no parsing (about 0.1 s for UMing, 0.25 s for HanaMin B).
 */
export const sharedFontkit: Fontkit = {
  create: (data: Uint8Array) => parsed.get(data) ?? fontkit.create(data),
};

export interface TextRun {
  face: Face;
  text: string;
}

/** The faces a document is drawn with: the Song face, and HanaMin B for what the Song face lacks. */
export class FontSet {
  constructor(
    readonly song: Face,
    readonly extB: Face | null,
  ) {}

  faceFor(cp: number): Face | undefined {
    if (this.song.has(cp)) return this.song;
    return this.extB?.has(cp) ? this.extB : undefined;
  }

  canDraw(cp: number): boolean {
    return this.faceFor(cp) !== undefined;
  }

  /** Width of `text` at `size` points, character by character as it is drawn. */
  width(text: string, size: number): number {
    let total = 0;
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      total += (this.faceFor(cp) ?? this.song).advance(cp);
    }
    return (total * size) / 1000;
  }

  /** `text` cut into runs of one face each. */
  runs(text: string): TextRun[] {
    const runs: TextRun[] = [];
    for (const ch of text) {
      const face = this.faceFor(ch.codePointAt(0)!) ?? this.song;
      const last = runs[runs.length - 1];
      if (last?.face === face) last.text += ch;
      else runs.push({ face, text: ch });
    }
    return runs;
  }
}

function needsSecondFont(song: Face, texts: Iterable<string>): boolean {
  for (const text of texts) {
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp !== 0x0a && !song.has(cp)) return true;
    }
  }
  return false;
}

/**
 * The fonts for `texts`: the Song face always, the second face only when some character needs
 * it (it is read and parsed on first need, once per process).
 */
export async function fontsFor(texts: Iterable<string>): Promise<FontSet> {
  const song = faceOf('song', await loadSongFont());
  if (!needsSecondFont(song, texts)) return new FontSet(song, null);
  const extB = await loadExtBFont();
  return new FontSet(song, extB ? faceOf('extb', extB) : null);
}
