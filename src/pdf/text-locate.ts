import { checkDeadline } from './limits/deadline.js';
import { CMap, parseCMap, type CMapBudget } from './cmap.js';
import { ContentReader } from './content-tokens.js';
import type { PageInfo, PdfDocument } from './document.js';
import { PdfError } from './errors.js';
import { MAX_DECODED_STREAM_BYTES, decodeStream } from './filters.js';
import { STANDARD_ENCODING, glyphNameToUnicode, namedEncoding, standardMetrics, type Encoding, type StandardMetrics } from './font-encoding.js';
import { PdfDict, PdfName, PdfStream, PdfString, type PdfValue } from './objects.js';
import { userToDisplayed } from './signature-field.js';

/**
 * Finds text on the pages of a PDF (for `anchor=`): runs each page's content streams (and the
 * form XObjects they draw) far enough to know which characters are shown where, and matches the
 * needle against them ignoring white space, after NFKC normalisation of both sides.
 *
 * Matching is streamed (a KMP automaton over the page's characters, keeping only the boxes of the
 * last needle-length characters), so memory does not grow with the page, and a page stops being
 * read at the first hit. Every amount of work is bounded by the limits below.
 */

export interface TextHit {
  pageIndex: number;
  /** User-space [llx, lly, urx, ury] of the matched glyphs. */
  box: [number, number, number, number];
  /** Centre of the box on the page as displayed: points from its top-left corner. */
  center: { x: number; y: number };
}

export interface TextLocateLimits {
  /** Pages searched, from the first (default: all). */
  maxPages?: number;
  /** Decoded content bytes per page, form XObjects included each time they are drawn. */
  maxContentBytes?: number;
  /** Content operators per page, form XObjects included. */
  maxOperators?: number;
  /** Form XObjects nested in each other. */
  maxXObjectDepth?: number;
  /** Decoded bytes over the whole search (content, forms, CMaps). */
  maxTotalContentBytes?: number;
  /** Content operators over the whole search. */
  maxTotalOperators?: number;
}

export const DEFAULT_TEXT_LOCATE_LIMITS: Readonly<Required<TextLocateLimits>> = {
  maxPages: Number.POSITIVE_INFINITY,
  maxContentBytes: 50 * 1024 * 1024,
  maxOperators: 2_000_000,
  maxXObjectDepth: 8,
  maxTotalContentBytes: 256 * 1024 * 1024,
  maxTotalOperators: 20_000_000,
};

/** Map entries (ToUnicode, CID maps, /W widths) over all fonts of one search. */
const MAX_FONT_MAP_ENTRIES = 4_000_000;
/** Decoded size of one ToUnicode or encoding CMap stream. */
const MAX_CMAP_STREAM_BYTES = 8 * 1024 * 1024;
/** Saved graphics states beyond this depth are only counted. */
const MAX_GSTATE_DEPTH = 1024;
/** Decoded form XObjects kept for reuse on later pages. */
const FORM_CACHE_BYTES = 64 * 1024 * 1024;
const GLYPH_CACHE_SIZE = 65_536;
/** Glyph box in em: ascent and descent. */
const ASCENT = 0.8;
const DESCENT = 0.2;

const INVISIBLE = /[\s\u00ad\u200b-\u200d\u2060\ufeff]/gu;

/** NFKC with all white space (and invisible format characters) removed: how text is compared. */
export function normalizeForMatch(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '');
}

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** m × n (PDF row-vector convention: m applies first). */
function multiply(m: Matrix, n: Matrix): Matrix {
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  return [
    a * n[0] + b * n[2],
    a * n[1] + b * n[3],
    c * n[0] + d * n[2],
    c * n[1] + d * n[3],
    e * n[0] + f * n[2] + n[4],
    e * n[1] + f * n[3] + n[5],
  ];
}

function isNumber(value: PdfValue | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** The last `count` operands if they are all numbers. */
function numbers(operands: PdfValue[], count: number): number[] | undefined {
  if (operands.length < count) return undefined;
  const out = operands.slice(operands.length - count);
  return out.every(isNumber) ? (out as number[]) : undefined;
}

function asMatrix(values: PdfValue | undefined): Matrix | undefined {
  if (!Array.isArray(values) || values.length !== 6 || !values.every(isNumber)) return undefined;
  return values as Matrix;
}

interface Glyph {
  /** Normalised text (may be empty). */
  readonly text: string;
  /** Horizontal advance in text-space units per unit of font size. */
  readonly width: number;
}

interface Font {
  readonly vertical: boolean;
  codeLength(bytes: Buffer, pos: number): number;
  glyph(code: number, length: number): Glyph;
}

const UNKNOWN = '\ufffd';

function makeGlyph(text: string | undefined, width: number): Glyph {
  return { text: text === undefined ? UNKNOWN : normalizeForMatch(text), width: Number.isFinite(width) ? width : 0 };
}

/** Type1, TrueType, MMType1 and Type3 fonts: one byte per code. */
class SimpleFont implements Font {
  readonly vertical = false;
  private readonly cache: Array<Glyph | undefined> = new Array<Glyph | undefined>(256);

  constructor(
    private readonly encoding: Encoding,
    private readonly toUnicode: CMap | undefined,
    /** Widths by code in glyph units (NaN where missing), or undefined to use `metrics`. */
    private readonly widths: Float64Array | undefined,
    private readonly missingWidth: number,
    private readonly metrics: StandardMetrics,
    /** Glyph units to text space: 1/1000, or the FontMatrix of a Type3 font. */
    private readonly scale: number,
  ) {}

  codeLength(): number {
    return 1;
  }

  glyph(code: number): Glyph {
    const cached = this.cache[code];
    if (cached) return cached;
    const name = this.encoding[code];
    const encoded = name === undefined ? undefined : glyphNameToUnicode(name);
    const text = this.toUnicode?.lookupUnicode(code, 1) ?? encoded;
    let width: number;
    if (this.widths) {
      const w = this.widths[code]!;
      width = (Number.isNaN(w) ? this.missingWidth : w) * this.scale;
    } else {
      width = this.metrics.width(encoded ?? '') / 1000;
    }
    const glyph = makeGlyph(text, width);
    this.cache[code] = glyph;
    return glyph;
  }
}

type CodeScheme = 'identity' | 'ucs2' | 'utf16' | 'cmap' | 'unknown';

/** Type0 fonts with a CIDFontType0/2 descendant. */
class CompositeFont implements Font {
  private readonly cache = new Map<number, Glyph>();

  constructor(
    private readonly scheme: CodeScheme,
    private readonly encodingCMap: CMap | undefined,
    private readonly toUnicode: CMap | undefined,
    private readonly widths: Map<number, number>,
    private readonly defaultWidth: number,
    readonly vertical: boolean,
  ) {}

  codeLength(bytes: Buffer, pos: number): number {
    const left = bytes.length - pos;
    switch (this.scheme) {
      case 'cmap':
        return this.encodingCMap!.codeLength(bytes, pos, 2);
      case 'utf16': {
        const unit = ((bytes[pos] ?? 0) << 8) | (bytes[pos + 1] ?? 0);
        return Math.min(left, unit >= 0xd800 && unit <= 0xdbff ? 4 : 2);
      }
      case 'unknown':
        if (this.toUnicode && this.toUnicode.codespace.length > 0) return this.toUnicode.codeLength(bytes, pos, 2);
        return Math.min(left, 2);
      default:
        return Math.min(left, 2);
    }
  }

  glyph(code: number, length: number): Glyph {
    const key = length * 0x1_0000_0000 + code;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let cid: number | undefined;
    let text = this.toUnicode?.lookupUnicode(code, length);
    switch (this.scheme) {
      case 'identity':
        cid = code;
        break;
      case 'cmap':
        cid = this.encodingCMap!.lookupCid(code, length);
        break;
      case 'ucs2':
        text ??= String.fromCharCode(code & 0xffff);
        break;
      case 'utf16':
        text ??= length === 4 ? String.fromCharCode(Math.floor(code / 0x10000), code & 0xffff) : String.fromCharCode(code & 0xffff);
        break;
      default:
        break;
    }
    const width = (cid === undefined ? undefined : this.widths.get(cid)) ?? this.defaultWidth;
    const glyph = makeGlyph(text, width / 1000);
    if (this.cache.size < GLYPH_CACHE_SIZE) this.cache.set(key, glyph);
    return glyph;
  }
}

/** Used when a font is missing or unusable: Latin text in StandardEncoding, Helvetica widths. */
const FALLBACK_FONT: Font = new SimpleFont(STANDARD_ENCODING, undefined, undefined, 0, standardMetrics('Helvetica'), 0.001);

/**
 * Matches the normalised needle against the stream of characters of a page (KMP), remembering the
 * boxes of the last needle-length characters.
 */
class Matcher {
  private readonly units: Uint16Array;
  private readonly failure: Int32Array;
  private readonly ring: Float64Array;
  private state = 0;
  private stored = 0;
  hit: [number, number, number, number] | undefined;

  constructor(needle: string) {
    const n = needle.length;
    this.units = new Uint16Array(n);
    for (let i = 0; i < n; i++) this.units[i] = needle.charCodeAt(i);
    this.failure = new Int32Array(n);
    for (let i = 1, k = 0; i < n; i++) {
      while (k > 0 && this.units[i] !== this.units[k]) k = this.failure[k - 1]!;
      if (this.units[i] === this.units[k]) k++;
      this.failure[i] = k;
    }
    this.ring = new Float64Array(n * 4);
  }

  reset(): void {
    this.state = 0;
    this.stored = 0;
    this.hit = undefined;
  }

  /**
   * Feeds one glyph: its text, and its box as text-space extents (x0..x1, y0..y1) with the matrix
   * `m` to user space, turned into a user-space box only when a character of it may be part of a
   * match. True when the needle has been found.
   */
  push(text: string, x0: number, y0: number, x1: number, y1: number, m: Matrix): boolean {
    const { units, failure, ring } = this;
    const n = units.length;
    let boxed = false;
    let llx = 0;
    let lly = 0;
    let urx = 0;
    let ury = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      let k = this.state;
      while (k > 0 && units[k] !== unit) k = failure[k - 1]!;
      if (units[k] === unit) k++;
      this.state = k;
      // Only characters inside a partial match can end up in a hit; the others are not kept.
      if (k === 0) continue;
      if (!boxed) {
        const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
        const p0x = x0 * a + y0 * c + e;
        const p0y = x0 * b + y0 * d + f;
        const p1x = x1 * a + y0 * c + e;
        const p1y = x1 * b + y0 * d + f;
        const p2x = x0 * a + y1 * c + e;
        const p2y = x0 * b + y1 * d + f;
        const p3x = x1 * a + y1 * c + e;
        const p3y = x1 * b + y1 * d + f;
        llx = Math.min(p0x, p1x, p2x, p3x);
        lly = Math.min(p0y, p1y, p2y, p3y);
        urx = Math.max(p0x, p1x, p2x, p3x);
        ury = Math.max(p0y, p1y, p2y, p3y);
        boxed = true;
      }
      const slot = (this.stored++ % n) * 4;
      ring[slot] = llx;
      ring[slot + 1] = lly;
      ring[slot + 2] = urx;
      ring[slot + 3] = ury;
      if (k === n) {
        // The last n characters stored are the match: each was inside the partial match.
        const box = this.unionOfRing();
        if (box) {
          this.hit = box;
          return true;
        }
        this.state = failure[n - 1]!;
      }
    }
    return false;
  }

  private unionOfRing(): [number, number, number, number] | undefined {
    const { ring } = this;
    let llx = Infinity;
    let lly = Infinity;
    let urx = -Infinity;
    let ury = -Infinity;
    for (let s = 0; s < ring.length; s += 4) {
      const x0 = ring[s]!;
      const y0 = ring[s + 1]!;
      const x1 = ring[s + 2]!;
      const y1 = ring[s + 3]!;
      if (!Number.isFinite(x0) || !Number.isFinite(y0) || !Number.isFinite(x1) || !Number.isFinite(y1)) continue;
      llx = Math.min(llx, x0);
      lly = Math.min(lly, y0);
      urx = Math.max(urx, x1);
      ury = Math.max(ury, y1);
    }
    return llx <= urx && lly <= ury ? [llx, lly, urx, ury] : undefined;
  }
}

class GState {
  ctm: Matrix = IDENTITY;
  font: Font = FALLBACK_FONT;
  fontSize = 0;
  charSpacing = 0;
  wordSpacing = 0;
  /** Tz / 100. */
  hScale = 1;
  leading = 0;
  rise = 0;

  clone(): GState {
    const copy = new GState();
    copy.ctm = this.ctm;
    copy.font = this.font;
    copy.fontSize = this.fontSize;
    copy.charSpacing = this.charSpacing;
    copy.wordSpacing = this.wordSpacing;
    copy.hScale = this.hScale;
    copy.leading = this.leading;
    copy.rise = this.rise;
    return copy;
  }
}

/** Text matrix and text line matrix of the text object being drawn. */
interface TextState {
  tm: Matrix;
  tlm: Matrix;
}

function limitNumber(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && !Number.isNaN(value) && value >= 0 ? value : fallback;
}

class TextScanner {
  private readonly limits: Required<TextLocateLimits>;
  private readonly fonts = new WeakMap<PdfDict, Font>();
  private readonly forms = new Map<PdfStream, Buffer>();
  private formCacheBytes = 0;
  private readonly cmapBudget: CMapBudget = { remaining: MAX_FONT_MAP_ENTRIES };
  private pageNumber = 0;
  private pageBytes = 0;
  private pageOps = 0;
  private totalBytes = 0;
  private totalOps = 0;

  constructor(
    private readonly doc: PdfDocument,
    private readonly matcher: Matcher,
    limits: TextLocateLimits,
  ) {
    const d = DEFAULT_TEXT_LOCATE_LIMITS;
    this.limits = {
      maxPages: limitNumber(limits.maxPages, d.maxPages),
      maxContentBytes: limitNumber(limits.maxContentBytes, d.maxContentBytes),
      maxOperators: limitNumber(limits.maxOperators, d.maxOperators),
      maxXObjectDepth: limitNumber(limits.maxXObjectDepth, d.maxXObjectDepth),
      maxTotalContentBytes: limitNumber(limits.maxTotalContentBytes, d.maxTotalContentBytes),
      maxTotalOperators: limitNumber(limits.maxTotalOperators, d.maxTotalOperators),
    };
  }

  get maxPages(): number {
    return this.limits.maxPages;
  }

  /** Resolves a value, treating objects that cannot be read as missing (limits still apply). */
  private resolve(value: PdfValue | undefined): PdfValue | undefined {
    try {
      return this.doc.resolve(value);
    } catch (err) {
      if (err instanceof PdfError && err.code !== 'LIMIT_EXCEEDED') return undefined;
      throw err;
    }
  }

  private resolveDict(value: PdfValue | undefined): PdfDict | undefined {
    const resolved = this.resolve(value);
    if (resolved instanceof PdfDict) return resolved;
    if (resolved instanceof PdfStream) return resolved.dict;
    return undefined;
  }

  private resolveNumber(value: PdfValue | undefined): number | undefined {
    const resolved = this.resolve(value);
    return isNumber(resolved) ? resolved : undefined;
  }

  private limitError(what: string): PdfError {
    return new PdfError('LIMIT_EXCEEDED', `page ${this.pageNumber}: ${what}`);
  }

  private chargeBytes(n: number): void {
    this.pageBytes += n;
    this.totalBytes += n;
    if (this.pageBytes > this.limits.maxContentBytes) {
      throw this.limitError(`the content decodes to more than ${this.limits.maxContentBytes} bytes`);
    }
    if (this.totalBytes > this.limits.maxTotalContentBytes) {
      throw this.limitError(`the document's content decodes to more than ${this.limits.maxTotalContentBytes} bytes`);
    }
  }

  private countOperator(): void {
    if ((this.totalOps & 0x3ff) === 0) checkDeadline();
    if (++this.pageOps > this.limits.maxOperators) throw this.limitError(`more than ${this.limits.maxOperators} content operators`);
    if (++this.totalOps > this.limits.maxTotalOperators) {
      throw this.limitError(`the document has more than ${this.limits.maxTotalOperators} content operators`);
    }
  }

  /**
   * Decodes a content stream within what is left of the budgets. Undefined when it cannot be
   * decoded (unsupported filter, corrupt data); LIMIT_EXCEEDED when a budget would be exceeded.
   */
  private decodeContent(stream: PdfStream): Buffer | undefined {
    const left = Math.min(this.limits.maxContentBytes - this.pageBytes, this.limits.maxTotalContentBytes - this.totalBytes);
    const cap = Math.max(1, Math.floor(Math.min(left, MAX_DECODED_STREAM_BYTES)));
    let data: Buffer;
    try {
      data = decodeStream(stream, cap);
    } catch (err) {
      if (!(err instanceof PdfError)) throw err;
      if (err.code === 'LIMIT_EXCEEDED') {
        this.chargeBytes(cap + 1); // throws with the message of the budget that ran out
        throw err;
      }
      return undefined;
    }
    this.chargeBytes(data.length);
    return data;
  }

  /** Decodes a font's CMap stream; undefined when it is unusable (or too big on its own). */
  private decodeCMapStream(stream: PdfStream): Buffer | undefined {
    const left = this.limits.maxTotalContentBytes - this.totalBytes;
    const cap = Math.max(1, Math.floor(Math.min(left, MAX_CMAP_STREAM_BYTES)));
    let data: Buffer;
    try {
      data = decodeStream(stream, cap);
    } catch (err) {
      if (!(err instanceof PdfError)) throw err;
      if (err.code === 'LIMIT_EXCEEDED' && cap < MAX_CMAP_STREAM_BYTES) this.chargeTotal(cap + 1);
      return undefined;
    }
    if (data.length > MAX_CMAP_STREAM_BYTES) return undefined;
    this.chargeTotal(data.length);
    return data;
  }

  private chargeTotal(n: number): void {
    this.totalBytes += n;
    if (this.totalBytes > this.limits.maxTotalContentBytes) {
      throw this.limitError(`the document's content decodes to more than ${this.limits.maxTotalContentBytes} bytes`);
    }
  }

  private parseCMapValue(value: PdfValue | undefined): CMap | undefined {
    const stream = this.resolve(value);
    if (!(stream instanceof PdfStream)) return undefined;
    const data = this.decodeCMapStream(stream);
    return data ? parseCMap(data, this.cmapBudget) : undefined;
  }

  private font(resources: PdfDict | undefined, name: PdfValue | undefined): Font {
    if (!(name instanceof PdfName)) return FALLBACK_FONT;
    const fonts = this.resolveDict(resources?.get('Font'));
    const dict = this.resolveDict(fonts?.get(name.value));
    if (!dict) return FALLBACK_FONT;
    let font = this.fonts.get(dict);
    if (!font) {
      const subtype = this.resolve(dict.get('Subtype'));
      font = subtype instanceof PdfName && subtype.value === 'Type0' ? this.loadCompositeFont(dict) : this.loadSimpleFont(dict, subtype);
      this.fonts.set(dict, font);
    }
    return font;
  }

  private loadSimpleFont(dict: PdfDict, subtype: PdfValue | undefined): Font {
    const baseFont = this.resolve(dict.get('BaseFont'));
    const baseName = baseFont instanceof PdfName ? baseFont.value : '';
    const encodingValue = this.resolve(dict.get('Encoding'));
    let encoding: Encoding = STANDARD_ENCODING;
    if (encodingValue instanceof PdfName) {
      encoding = namedEncoding(encodingValue.value) ?? STANDARD_ENCODING;
    } else if (encodingValue instanceof PdfDict) {
      const base = this.resolve(encodingValue.get('BaseEncoding'));
      const table = [...((base instanceof PdfName ? namedEncoding(base.value) : undefined) ?? STANDARD_ENCODING)];
      const differences = this.resolve(encodingValue.get('Differences'));
      if (Array.isArray(differences)) {
        let code = -1;
        for (const item of differences.slice(0, 65_536)) {
          const value = this.resolve(item);
          if (typeof value === 'number') code = Number.isInteger(value) ? value : -1;
          else if (value instanceof PdfName) {
            if (code >= 0 && code < 256) table[code] = value.value;
            if (code >= 0) code++;
          }
        }
      }
      encoding = table;
    }

    let scale = 0.001;
    if (subtype instanceof PdfName && subtype.value === 'Type3') {
      const fontMatrix = asMatrix(this.resolve(dict.get('FontMatrix')));
      if (fontMatrix && fontMatrix[0] !== 0) scale = Math.abs(fontMatrix[0]);
    }
    const descriptor = this.resolveDict(dict.get('FontDescriptor'));
    const missingWidth = this.resolveNumber(descriptor?.get('MissingWidth')) ?? 0;
    const widthsValue = this.resolve(dict.get('Widths'));
    let widths: Float64Array | undefined;
    if (Array.isArray(widthsValue)) {
      widths = new Float64Array(256).fill(Number.NaN);
      const first = this.resolveNumber(dict.get('FirstChar')) ?? 0;
      for (let i = 0; i < widthsValue.length && i < 256; i++) {
        const code = first + i;
        if (!Number.isInteger(code) || code < 0 || code > 255) continue;
        const w = this.resolve(widthsValue[i]);
        if (isNumber(w)) widths[code] = w;
      }
    }
    const toUnicode = this.parseCMapValue(dict.get('ToUnicode'));
    return new SimpleFont(encoding, toUnicode, widths, missingWidth, standardMetrics(baseName), scale);
  }

  private loadCompositeFont(dict: PdfDict): Font {
    const encodingValue = this.resolve(dict.get('Encoding'));
    let scheme: CodeScheme = 'unknown';
    let encodingCMap: CMap | undefined;
    let vertical = false;
    if (encodingValue instanceof PdfName) {
      const name = encodingValue.value;
      vertical = name.endsWith('-V');
      if (name === 'Identity-H' || name === 'Identity-V') scheme = 'identity';
      else if (/^Uni\w*-UCS2-[HV]$/.test(name)) scheme = 'ucs2';
      else if (/^Uni\w*-UTF16-[HV]$/.test(name)) scheme = 'utf16';
    } else if (encodingValue instanceof PdfStream) {
      encodingCMap = this.parseCMapValue(encodingValue);
      if (encodingCMap) {
        scheme = encodingCMap.codespace.length > 0 || encodingCMap.cidSize > 0 ? 'cmap' : 'unknown';
        vertical = encodingCMap.vertical || this.resolve(encodingValue.dict.get('WMode')) === 1;
        if (encodingCMap.codespace.length === 0 && encodingCMap.useCMap?.startsWith('Identity')) scheme = 'identity';
      }
    }
    const descendants = this.resolve(dict.get('DescendantFonts'));
    const descendant = Array.isArray(descendants) ? this.resolveDict(descendants[0]) : undefined;
    const defaultWidth = this.resolveNumber(descendant?.get('DW')) ?? 1000;
    const widths = new Map<number, number>();
    const w = this.resolve(descendant?.get('W'));
    if (Array.isArray(w)) {
      const budget = this.cmapBudget;
      for (let i = 0; i < w.length && budget.remaining > 0; ) {
        const first = this.resolve(w[i]);
        const next = this.resolve(w[i + 1]);
        if (!isNumber(first) || !Number.isInteger(first) || first < 0) break;
        if (Array.isArray(next)) {
          for (let k = 0; k < next.length && k < 0x10000 && budget.remaining > 0; k++, budget.remaining--) {
            const width = this.resolve(next[k]);
            if (isNumber(width)) widths.set(first + k, width);
          }
          i += 2;
        } else {
          const width = this.resolve(w[i + 2]);
          if (!isNumber(next) || !isNumber(width)) break;
          const last = Math.min(next, first + 0xffff);
          for (let cid = first; cid <= last && budget.remaining > 0; cid++, budget.remaining--) widths.set(cid, width);
          i += 3;
        }
      }
    }
    const toUnicode = this.parseCMapValue(dict.get('ToUnicode'));
    return new CompositeFont(scheme, encodingCMap, toUnicode, widths, defaultWidth, vertical);
  }

  /** The decoded content of a form XObject (cached across pages, charged on every use). */
  private formContent(form: PdfStream): Buffer | undefined {
    const cached = this.forms.get(form);
    if (cached) {
      this.chargeBytes(cached.length);
      return cached;
    }
    const data = this.decodeContent(form);
    if (data && this.formCacheBytes + data.length <= FORM_CACHE_BYTES) {
      this.forms.set(form, data);
      this.formCacheBytes += data.length;
    }
    return data;
  }

  /** Scans one page; true when the needle was found on it (the box is in the matcher). */
  scanPage(page: PageInfo): boolean {
    this.pageNumber = page.index + 1;
    this.pageBytes = 0;
    this.pageOps = 0;
    this.matcher.reset();
    const contents = this.resolve(page.dict.get('Contents'));
    const streams: PdfStream[] = [];
    if (contents instanceof PdfStream) streams.push(contents);
    else if (Array.isArray(contents)) {
      for (const item of contents) {
        const stream = this.resolve(item);
        if (stream instanceof PdfStream) streams.push(stream);
      }
    }
    if (streams.length === 0) return false;
    const parts: Buffer[] = [];
    const separator = Buffer.from('\n');
    for (const stream of streams) {
      const data = this.decodeContent(stream);
      if (!data) return false; // a content stream that cannot be decoded: the page is skipped
      parts.push(data, separator);
    }
    const content = parts.length === 2 ? parts[0]! : Buffer.concat(parts);
    this.run(content, page.resources, new GState(), 0, new Set());
    return this.matcher.hit !== undefined;
  }

  /** Runs a content stream; returns early once the needle has been found. */
  private run(content: Buffer, resources: PdfDict | undefined, initial: GState, depth: number, active: Set<PdfStream>): void {
    const reader = new ContentReader(content);
    const saved: GState[] = [];
    let lostSaves = 0;
    let gs = initial;
    const text: TextState = { tm: IDENTITY, tlm: IDENTITY };
    const nextLine = (tx: number, ty: number): void => {
      text.tlm = multiply([1, 0, 0, 1, tx, ty], text.tlm);
      text.tm = text.tlm;
    };
    for (let op = reader.next(); op !== null; op = reader.next()) {
      this.countOperator();
      const operands = reader.operands;
      switch (op) {
        case 'q':
          if (saved.length < MAX_GSTATE_DEPTH) saved.push(gs.clone());
          else lostSaves++;
          break;
        case 'Q':
          if (lostSaves > 0) lostSaves--;
          else gs = saved.pop() ?? gs;
          break;
        case 'cm': {
          const m = numbers(operands, 6);
          if (m) gs.ctm = multiply(m as Matrix, gs.ctm);
          break;
        }
        case 'BT':
          text.tm = IDENTITY;
          text.tlm = IDENTITY;
          break;
        case 'Tf': {
          const size = operands[operands.length - 1];
          if (!isNumber(size)) break;
          gs.font = this.font(resources, operands[operands.length - 2]);
          gs.fontSize = size;
          break;
        }
        case 'Tc':
        case 'Tw':
        case 'Tz':
        case 'TL':
        case 'Ts': {
          const v = numbers(operands, 1)?.[0];
          if (v === undefined) break;
          if (op === 'Tc') gs.charSpacing = v;
          else if (op === 'Tw') gs.wordSpacing = v;
          else if (op === 'Tz') gs.hScale = v / 100;
          else if (op === 'TL') gs.leading = v;
          else gs.rise = v;
          break;
        }
        case 'Td':
        case 'TD': {
          const t = numbers(operands, 2);
          if (!t) break;
          if (op === 'TD') gs.leading = -t[1]!;
          nextLine(t[0]!, t[1]!);
          break;
        }
        case 'Tm': {
          const m = numbers(operands, 6);
          if (!m) break;
          text.tlm = m as Matrix;
          text.tm = text.tlm;
          break;
        }
        case 'T*':
          nextLine(0, -gs.leading);
          break;
        case 'Tj':
        case "'":
        case '"': {
          const string = operands[operands.length - 1];
          if (op === '"') {
            const spacing = numbers(operands.slice(0, -1), 2);
            if (spacing) {
              gs.wordSpacing = spacing[0]!;
              gs.charSpacing = spacing[1]!;
            }
          }
          if (op !== 'Tj') nextLine(0, -gs.leading);
          if (string instanceof PdfString && this.show([string], gs, text)) return;
          break;
        }
        case 'TJ': {
          const items = operands[operands.length - 1];
          if (Array.isArray(items) && this.show(items, gs, text)) return;
          break;
        }
        case 'Do': {
          const name = operands[operands.length - 1];
          if (name instanceof PdfName && this.drawXObject(name, resources, gs, depth, active)) return;
          break;
        }
        default:
          break;
      }
    }
  }

  /** Draws a form XObject; true when the needle was found inside it. */
  private drawXObject(name: PdfName, resources: PdfDict | undefined, gs: GState, depth: number, active: Set<PdfStream>): boolean {
    const xobjects = this.resolveDict(resources?.get('XObject'));
    const form = this.resolve(xobjects?.get(name.value));
    if (!(form instanceof PdfStream)) return false;
    const subtype = this.resolve(form.dict.get('Subtype'));
    if (!(subtype instanceof PdfName) || subtype.value !== 'Form' || active.has(form)) return false;
    if (depth + 1 > this.limits.maxXObjectDepth) {
      throw this.limitError(`form XObjects are nested more than ${this.limits.maxXObjectDepth} deep`);
    }
    const data = this.formContent(form);
    if (!data) return false;
    const matrix = asMatrix(this.resolve(form.dict.get('Matrix'))) ?? IDENTITY;
    const formResources = this.resolveDict(form.dict.get('Resources')) ?? resources;
    const inner = gs.clone();
    inner.ctm = multiply(matrix, gs.ctm);
    active.add(form);
    try {
      this.run(data, formResources, inner, depth + 1, active);
    } finally {
      active.delete(form);
    }
    return this.matcher.hit !== undefined;
  }

  /**
   * Shows the strings of a Tj/TJ (numbers are TJ adjustments), feeding each glyph with its box to
   * the matcher and advancing the text matrix (PDF 32000-1, 9.4.4). True when the needle was found.
   */
  private show(items: PdfValue[], gs: GState, text: TextState): boolean {
    const { font, fontSize: size, hScale: th, rise, charSpacing, wordSpacing } = gs;
    const m = multiply(text.tm, gs.ctm);
    const matcher = this.matcher;
    let advance = 0;
    for (const item of items) {
      if (typeof item === 'number') {
        if (Number.isFinite(item)) advance -= (item / 1000) * size * (font.vertical ? 1 : th);
        continue;
      }
      if (!(item instanceof PdfString)) continue;
      const bytes = item.bytes;
      for (let pos = 0; pos < bytes.length; ) {
        const length = font.codeLength(bytes, pos);
        let code = 0;
        for (let k = 0; k < length; k++) code = code * 256 + bytes[pos + k]!;
        pos += length;
        const glyph = font.glyph(code, length);
        const spacing = charSpacing + (length === 1 && code === 32 ? wordSpacing : 0);
        let x0: number;
        let x1: number;
        let y0: number;
        let y1: number;
        if (font.vertical) {
          const half = (glyph.width * size * th) / 2;
          x0 = -half;
          x1 = half;
          y0 = advance - size;
          y1 = advance;
          advance += -size + spacing;
        } else {
          x0 = advance;
          x1 = advance + glyph.width * size * th;
          y0 = rise - DESCENT * size;
          y1 = rise + ASCENT * size;
          advance += (glyph.width * size + spacing) * th;
        }
        if (glyph.text.length === 0) continue;
        const found = matcher.push(glyph.text, x0, y0, x1, y1, m);
        if (found) return true;
      }
    }
    const tm = text.tm;
    text.tm = font.vertical
      ? [tm[0], tm[1], tm[2], tm[3], advance * tm[2] + tm[4], advance * tm[3] + tm[5]]
      : [tm[0], tm[1], tm[2], tm[3], advance * tm[0] + tm[4], advance * tm[1] + tm[5]];
    return false;
  }
}

/**
 * Finds the first occurrence of `needle` in the document (pages in order, content-stream order
 * within a page), ignoring white space and comparing NFKC-normalised text. Returns null when the
 * text is not there (or the needle is empty). Throws only PdfError: LIMIT_EXCEEDED when a page or
 * the search as a whole exceeds the limits; pages whose content cannot be decoded are skipped.
 */
export function findText(doc: PdfDocument, needle: string, limits: TextLocateLimits = {}): TextHit | null {
  const target = normalizeForMatch(needle);
  if (target.length === 0) return null;
  const matcher = new Matcher(target);
  const scanner = new TextScanner(doc, matcher, limits);
  const pages = doc.pages();
  const count = Math.min(pages.length, scanner.maxPages);
  for (let i = 0; i < count; i++) {
    const page = pages[i]!;
    if (!scanner.scanPage(page) || !matcher.hit) continue;
    const box = matcher.hit;
    const [x, y] = userToDisplayed(page, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2);
    return { pageIndex: page.index, box: [box[0], box[1], box[2], box[3]], center: { x, y } };
  }
  return null;
}
