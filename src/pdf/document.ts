import { checkDeadline, rethrowIfOutOfTime } from '../limits/deadline.js';
import { PdfError } from './errors.js';
import { decodeStream } from './filters.js';
import { PdfDict, PdfName, PdfRef, PdfStream, type PdfValue } from './objects.js';
import { DEFAULT_MAX_NESTING, ObjectParser } from './parser.js';

export type XrefEntry =
  | { readonly kind: 'offset'; readonly offset: number; readonly gen: number }
  | { readonly kind: 'compressed'; readonly stream: number; readonly index: number }
  | { readonly kind: 'free' };

export interface XrefSection {
  /** Where the section starts (the value of the `startxref` or `/Prev` that led to it). */
  readonly offset: number;
  readonly kind: 'table' | 'stream';
  readonly trailer: PdfDict;
  /** The objects this section lists as in use (what its revision wrote). */
  readonly objectNums: number[];
  /** Offset just past the `%%EOF` line that closes this section's revision. */
  readonly end: number;
}

export interface PageInfo {
  readonly index: number;
  readonly ref: PdfRef;
  readonly dict: PdfDict;
  /** [llx, lly, urx, ury], inherited and normalised. */
  readonly mediaBox: [number, number, number, number];
  readonly cropBox: [number, number, number, number];
  readonly rotate: 0 | 90 | 180 | 270;
  readonly resources: PdfDict | undefined;
}

export interface PdfLimits {
  maxObjects: number;
  maxXrefSections: number;
  maxPages: number;
  /** How deep arrays and dictionaries may nest. */
  maxNesting: number;
}

export const DEFAULT_PDF_LIMITS: PdfLimits = { maxObjects: 5_000_000, maxXrefSections: 10_000, maxPages: 100_000, maxNesting: DEFAULT_MAX_NESTING };

const MAX_PAGE_TREE_DEPTH = 64;

function findStartXref(bytes: Buffer): number {
  const tailStart = Math.max(0, bytes.length - 4096);
  const at = bytes.lastIndexOf('startxref', bytes.length, 'latin1');
  if (at < tailStart || at < 0) {
    throw new PdfError(bytes.length < 64 ? 'TRUNCATED' : 'MALFORMED', 'no startxref near the end of the file (truncated or not a complete PDF)');
  }
  const parser = new ObjectParser(bytes, at + 9);
  const offset = parser.readNumber();
  if (!Number.isInteger(offset) || offset < 0 || offset >= bytes.length) {
    throw new PdfError('MALFORMED', `startxref points outside the file (${offset})`);
  }
  return offset;
}

function toBox(value: PdfValue | undefined): [number, number, number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return undefined;
  }
  const [a, b, c, d] = value as number[];
  return [Math.min(a!, c!), Math.min(b!, d!), Math.max(a!, c!), Math.max(b!, d!)];
}

/**
 * A lazily parsed PDF: the cross-reference chain is read once on load; objects are parsed on
 * first use and cached. Nothing here changes the file.
 */
export class PdfDocument {
  readonly sections: XrefSection[] = [];
  private readonly entries = new Map<number, XrefEntry>();
  private readonly cache = new Map<number, PdfValue>();
  private readonly objectStreams = new Map<number, { offsets: Array<[number, number]>; data: Buffer; first: number }>();
  private scannedOffsets: Map<number, number> | undefined;
  private pageList: PageInfo[] | undefined;
  /** True when objects had to be found by scanning because the xref table's offsets were wrong. */
  repaired = false;
  readonly startXref: number;

  private constructor(
    readonly bytes: Buffer,
    readonly limits: PdfLimits,
  ) {
    if (bytes.length < 8 || bytes.indexOf('%PDF-', 0, 'latin1') < 0 || bytes.indexOf('%PDF-', 0, 'latin1') > 1024) {
      throw new PdfError('NOT_PDF', 'the data is not a PDF (no %PDF- header)');
    }
    this.startXref = findStartXref(bytes);
    this.readXrefChain(this.startXref);
    if (this.trailer.has('Encrypt')) throw new PdfError('ENCRYPTED', 'the PDF is encrypted');
  }

  static load(bytes: Buffer, limits: PdfLimits = DEFAULT_PDF_LIMITS): PdfDocument {
    return new PdfDocument(bytes, limits);
  }

  /** The newest trailer (for an xref stream: its dictionary). */
  get trailer(): PdfDict {
    return this.sections[0]!.trailer;
  }

  get lastSectionKind(): 'table' | 'stream' {
    return this.sections[0]!.kind;
  }

  /** The `/Size` the next update must start from: one past the highest object number in use. */
  get size(): number {
    let size = Number(this.trailer.get('Size') ?? 0);
    for (const num of this.entries.keys()) if (num + 1 > size) size = num + 1;
    return size;
  }

  get objectCount(): number {
    return this.entries.size;
  }

  entry(num: number): XrefEntry | undefined {
    return this.entries.get(num);
  }

  private addEntry(num: number, entry: XrefEntry, sectionNums: number[]): void {
    if ((sectionNums.length & 0xfff) === 0xfff) checkDeadline();
    if (entry.kind !== 'free') sectionNums.push(num);
    if (!this.entries.has(num)) {
      if (this.entries.size >= this.limits.maxObjects) {
        throw new PdfError('LIMIT_EXCEEDED', `the PDF has more than ${this.limits.maxObjects} objects`);
      }
      this.entries.set(num, entry);
    }
  }

  private readXrefChain(start: number): void {
    const visited = new Set<number>();
    const pending: number[] = [start];
    while (pending.length > 0) {
      const offset = pending.shift()!;
      if (visited.has(offset)) continue;
      if (visited.size >= this.limits.maxXrefSections) throw new PdfError('LIMIT_EXCEEDED', 'too many xref sections');
      visited.add(offset);
      const section = this.readXrefSection(offset);
      this.sections.push(section);
      const xrefStm = section.trailer.get('XRefStm');
      if (section.kind === 'table' && typeof xrefStm === 'number' && !visited.has(xrefStm)) {
        visited.add(xrefStm);
        this.readXrefStream(xrefStm, section.objectNums); // hybrid file: entries only, the table's trailer rules
      }
      const prev = section.trailer.get('Prev');
      if (typeof prev === 'number') {
        if (!Number.isInteger(prev) || prev < 0 || prev >= this.bytes.length) {
          throw new PdfError('MALFORMED', `/Prev points outside the file (${prev})`);
        }
        pending.push(prev);
      }
    }
    if (!(this.trailer.get('Root') instanceof PdfRef)) throw new PdfError('MALFORMED', 'the trailer has no /Root');
  }

  private readXrefSection(offset: number): XrefSection {
    const parser = new ObjectParser(this.bytes, offset, this.bytes.length, this.limits.maxNesting);
    parser.skipWhitespace();
    const objectNums: number[] = [];
    if (parser.startsWith('xref')) {
      parser.pos += 4;
      const trailer = this.readXrefTable(parser, objectNums);
      return { offset, kind: 'table', trailer, objectNums, end: this.revisionEnd(parser.pos) };
    }
    const trailer = this.readXrefStream(offset, objectNums);
    return { offset, kind: 'stream', trailer, objectNums, end: this.revisionEnd(offset) };
  }

  /** Where the revision whose xref section ends near `from` ends: past `%%EOF` and its EOL. */
  private revisionEnd(from: number): number {
    const eof = this.bytes.indexOf('%%EOF', from, 'latin1');
    if (eof < 0) return this.bytes.length;
    let end = eof + 5;
    if (this.bytes[end] === 0x0d) end++;
    if (this.bytes[end] === 0x0a) end++;
    return end;
  }

  private readXrefTable(parser: ObjectParser, sectionNums: number[]): PdfDict {
    for (;;) {
      parser.skipWhitespace();
      if (parser.startsWith('trailer')) {
        parser.pos += 7;
        const trailer = parser.parseValue();
        if (!(trailer instanceof PdfDict)) throw new PdfError('MALFORMED', 'trailer is not a dictionary');
        return trailer;
      }
      const first = parser.readNumber();
      const count = parser.readNumber();
      if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0) {
        throw new PdfError('MALFORMED', 'bad xref subsection header');
      }
      if (count > this.limits.maxObjects) throw new PdfError('LIMIT_EXCEEDED', 'xref subsection too large');
      for (let i = 0; i < count; i++) {
        const field1 = parser.readNumber();
        const gen = parser.readNumber();
        const type = parser.readToken();
        if (type === 'n') {
          if (field1 > 0) this.addEntry(first + i, { kind: 'offset', offset: field1, gen }, sectionNums);
          else this.addEntry(first + i, { kind: 'free' }, sectionNums);
        } else if (type === 'f') this.addEntry(first + i, { kind: 'free' }, sectionNums);
        else throw new PdfError('MALFORMED', `bad xref entry type "${type.slice(0, 10)}"`);
      }
    }
  }

  private readXrefStream(offset: number, sectionNums: number[]): PdfDict {
    const parser = new ObjectParser(this.bytes, offset, this.bytes.length, this.limits.maxNesting);
    const object = parser.parseIndirectObject((ref) => this.lengthOf(ref));
    const stream = object.value;
    if (!(stream instanceof PdfStream) || !(stream.dict.get('Type') instanceof PdfName) || (stream.dict.get('Type') as PdfName).value !== 'XRef') {
      throw new PdfError('MALFORMED', `no xref table or xref stream at offset ${offset}`);
    }
    const w = stream.dict.get('W');
    if (!Array.isArray(w) || w.length !== 3 || !w.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 8)) {
      throw new PdfError('MALFORMED', 'bad /W in xref stream');
    }
    const widths = w as number[];
    const size = stream.dict.get('Size');
    if (typeof size !== 'number' || size < 0 || size > this.limits.maxObjects) throw new PdfError('MALFORMED', 'bad /Size in xref stream');
    const index = stream.dict.get('Index') ?? [0, size];
    if (!Array.isArray(index) || index.length % 2 !== 0 || !index.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
      throw new PdfError('MALFORMED', 'bad /Index in xref stream');
    }
    const rowLength = widths[0]! + widths[1]! + widths[2]!;
    const data = decodeStream(stream, 64 * 1024 * 1024);
    let pos = 0;
    const readField = (width: number, fallback: number): number => {
      if (width === 0) return fallback;
      let value = 0;
      for (let k = 0; k < width; k++) value = value * 256 + data[pos++]!;
      return value;
    };
    for (let s = 0; s < index.length; s += 2) {
      const first = index[s] as number;
      const count = index[s + 1] as number;
      for (let i = 0; i < count; i++) {
        if (pos + rowLength > data.length) throw new PdfError('MALFORMED', 'xref stream shorter than its /Index says');
        const type = readField(widths[0]!, 1);
        const f2 = readField(widths[1]!, 0);
        const f3 = readField(widths[2]!, 0);
        if (type === 1) this.addEntry(first + i, { kind: 'offset', offset: f2, gen: f3 }, sectionNums);
        else if (type === 2) this.addEntry(first + i, { kind: 'compressed', stream: f2, index: f3 }, sectionNums);
        else if (type === 0) this.addEntry(first + i, { kind: 'free' }, sectionNums);
      }
    }
    return stream.dict;
  }

  private lengthOf(ref: PdfRef): number | undefined {
    try {
      const value = this.getObject(ref.num);
      return typeof value === 'number' ? value : undefined;
    } catch (err) {
      rethrowIfOutOfTime(err);
      return undefined;
    }
  }

  /** Scans the whole file for `n g obj` headers: the fallback when an xref offset is wrong. */
  private scanForObjects(): Map<number, number> {
    if (this.scannedOffsets) return this.scannedOffsets;
    const found = new Map<number, number>();
    const text = this.bytes.toString('latin1');
    const pattern = /(?:^|[\r\n\s])(\d{1,10})\s+(\d{1,5})\s+obj\b/g;
    for (let m = pattern.exec(text), seen = 0; m; m = pattern.exec(text)) {
      if (++seen % 4096 === 0) checkDeadline();
      const start = m.index + (m[0].length - m[0].trimStart().length);
      found.set(Number(m[1]), start); // later definitions win, as in an incremental file
    }
    this.scannedOffsets = found;
    return found;
  }

  private parseAt(offset: number, num: number): PdfValue | undefined {
    if (offset < 0 || offset >= this.bytes.length) return undefined;
    try {
      const parser = new ObjectParser(this.bytes, offset, this.bytes.length, this.limits.maxNesting);
      const object = parser.parseIndirectObject((ref) => (ref.num === num ? undefined : this.lengthOf(ref)));
      return object.num === num ? object.value : undefined;
    } catch (err) {
      if (err instanceof PdfError && err.code === 'LIMIT_EXCEEDED') throw err;
      return undefined;
    }
  }

  /** Returns the object with this number, or undefined when it does not exist (free or missing). */
  getObject(num: number): PdfValue | undefined {
    if (this.cache.has(num)) return this.cache.get(num);
    checkDeadline();
    const entry = this.entries.get(num);
    let value: PdfValue | undefined;
    if (entry?.kind === 'offset') {
      value = this.parseAt(entry.offset, num);
      if (value === undefined) {
        const scanned = this.scanForObjects().get(num);
        if (scanned !== undefined) {
          value = this.parseAt(scanned, num);
          if (value !== undefined) this.repaired = true;
        }
        if (value === undefined) throw new PdfError('MALFORMED', `object ${num} is not where the xref table says`);
      }
    } else if (entry?.kind === 'compressed') {
      value = this.getCompressedObject(num, entry.stream, entry.index);
    }
    this.cache.set(num, value ?? null);
    return value;
  }

  private getCompressedObject(num: number, streamNum: number, index: number): PdfValue {
    let objStm = this.objectStreams.get(streamNum);
    if (!objStm) {
      const streamEntry = this.entries.get(streamNum);
      if (streamEntry?.kind !== 'offset') throw new PdfError('MALFORMED', `object stream ${streamNum} is missing`);
      const stream = this.getObject(streamNum);
      if (!(stream instanceof PdfStream)) throw new PdfError('MALFORMED', `object ${streamNum} is not an object stream`);
      const n = stream.dict.get('N');
      const first = stream.dict.get('First');
      if (typeof n !== 'number' || typeof first !== 'number' || n < 0 || first < 0 || n > this.limits.maxObjects) {
        throw new PdfError('MALFORMED', `object stream ${streamNum} has a bad /N or /First`);
      }
      const data = decodeStream(stream);
      const header = new ObjectParser(data, 0, Math.min(first, data.length), this.limits.maxNesting);
      const offsets: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) offsets.push([header.readNumber(), header.readNumber()]);
      objStm = { offsets, data, first };
      this.objectStreams.set(streamNum, objStm);
    }
    const slot = objStm.offsets[index];
    if (!slot || slot[0] !== num) throw new PdfError('MALFORMED', `object ${num} is not in object stream ${streamNum}`);
    return new ObjectParser(objStm.data, objStm.first + slot[1], objStm.data.length, this.limits.maxNesting).parseValue();
  }

  /** Follows references (with a bound, so reference cycles cannot loop). */
  resolve(value: PdfValue | undefined): PdfValue | undefined {
    let current = value;
    for (let hops = 0; current instanceof PdfRef; hops++) {
      if (hops > 32) throw new PdfError('MALFORMED', 'reference chain too long');
      current = this.getObject(current.num);
    }
    return current;
  }

  resolveDict(value: PdfValue | undefined): PdfDict | undefined {
    const resolved = this.resolve(value);
    if (resolved instanceof PdfDict) return resolved;
    if (resolved instanceof PdfStream) return resolved.dict;
    return undefined;
  }

  catalog(): PdfDict {
    const root = this.resolve(this.trailer.get('Root'));
    if (!(root instanceof PdfDict)) throw new PdfError('MALFORMED', 'the document catalog is missing');
    return root;
  }

  get rootRef(): PdfRef {
    return this.trailer.get('Root') as PdfRef;
  }

  pages(): PageInfo[] {
    if (this.pageList) return this.pageList;
    const pagesRef = this.catalog().get('Pages');
    if (!(pagesRef instanceof PdfRef)) throw new PdfError('MALFORMED', 'the catalog has no page tree');
    const pages: PageInfo[] = [];
    const visited = new Set<number>();
    interface Inherited { mediaBox?: [number, number, number, number]; cropBox?: [number, number, number, number]; rotate?: number; resources?: PdfDict }
    const walk = (ref: PdfRef, inherited: Inherited, depth: number): void => {
      if (depth > MAX_PAGE_TREE_DEPTH) throw new PdfError('LIMIT_EXCEEDED', 'page tree nested too deeply');
      if (visited.has(ref.num)) throw new PdfError('MALFORMED', 'the page tree has a cycle');
      visited.add(ref.num);
      const node = this.resolveDict(ref);
      if (!node) throw new PdfError('MALFORMED', `page tree node ${ref.num} is missing`);
      const here: Inherited = {
        mediaBox: toBox(this.resolve(node.get('MediaBox'))) ?? inherited.mediaBox,
        cropBox: toBox(this.resolve(node.get('CropBox'))) ?? inherited.cropBox,
        rotate: (this.resolve(node.get('Rotate')) as number | undefined) ?? inherited.rotate,
        resources: this.resolveDict(node.get('Resources')) ?? inherited.resources,
      };
      const type = node.get('Type');
      const kids = this.resolve(node.get('Kids'));
      if ((type instanceof PdfName && type.value === 'Pages') || (!(type instanceof PdfName) && Array.isArray(kids))) {
        if (!Array.isArray(kids)) throw new PdfError('MALFORMED', `page tree node ${ref.num} has no /Kids`);
        for (const kid of kids) {
          if (kid instanceof PdfRef) walk(kid, here, depth + 1);
        }
        return;
      }
      if (pages.length >= this.limits.maxPages) throw new PdfError('LIMIT_EXCEEDED', `more than ${this.limits.maxPages} pages`);
      const mediaBox = here.mediaBox ?? [0, 0, 612, 792];
      const rotation = ((((typeof here.rotate === 'number' ? Math.round(here.rotate / 90) * 90 : 0) % 360) + 360) % 360) as 0 | 90 | 180 | 270;
      pages.push({ index: pages.length, ref, dict: node, mediaBox, cropBox: here.cropBox ?? mediaBox, rotate: rotation, resources: here.resources });
    };
    walk(pagesRef, {}, 0);
    if (pages.length === 0) throw new PdfError('MALFORMED', 'the document has no pages');
    this.pageList = pages;
    return pages;
  }
}
