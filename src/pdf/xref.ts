import { checkDeadline } from './limits/deadline.js';
import { PdfError } from './errors.js';
import { decodeStream } from './filters.js';
import { isName, PdfDict, PdfStream, type PdfRef } from './objects.js';
import { ObjectParser } from './parser.js';

export type XrefEntry =
  | { readonly kind: 'offset'; readonly offset: number; readonly gen: number }
  | { readonly kind: 'compressed'; readonly stream: number; readonly index: number }
  | { readonly kind: 'free' };

/** One cross-reference section (a table with its trailer, or an xref stream) exactly as written. */
export interface XrefSection {
  /** Where the section starts (the value of the `startxref` or `/Prev` that led to it). */
  readonly offset: number;
  readonly kind: 'table' | 'stream';
  readonly trailer: PdfDict;
  /** Every entry this section lists, in use or free (for a hybrid file, with its `/XRefStm`). */
  readonly entries: Map<number, XrefEntry>;
  /** Offset just past the `%%EOF` line that follows this section. */
  readonly end: number;
  /** For a hybrid file: where its `/XRefStm` stream is. */
  readonly xrefStreamOffset?: number;
  /** Contradictions inside the section: an object listed twice, a table and its /XRefStm disagreeing. */
  readonly conflicts: XrefConflict[];
}

/** Two readers could take the same xref for different objects: an attack surface, reported. */
export interface XrefConflict {
  readonly num: number;
  readonly message: string;
}

export interface XrefReadLimits {
  maxObjects: number;
  maxNesting: number;
}

const sameEntry = (a: XrefEntry, b: XrefEntry): boolean =>
  a.kind === b.kind &&
  (a.kind === 'free' ||
    (a.kind === 'offset' && b.kind === 'offset' && a.offset === b.offset && a.gen === b.gen) ||
    (a.kind === 'compressed' && b.kind === 'compressed' && a.stream === b.stream && a.index === b.index));

/** Where the revision whose xref section ends near `from` ends: past `%%EOF` and its EOL. */
export function revisionEndAfter(bytes: Buffer, from: number): number {
  const eof = bytes.indexOf('%%EOF', from, 'latin1');
  if (eof < 0) return bytes.length;
  let end = eof + 5;
  if (bytes[end] === 0x0d) end++;
  if (bytes[end] === 0x0a) end++;
  return end;
}

/**
 * Reads cross-reference sections. Each section keeps its own entries, so any revision of the
 * file can be resolved later; nothing here follows `/Prev`.
 */
export class XrefReader {
  constructor(
    private readonly bytes: Buffer,
    private readonly limits: XrefReadLimits,
    /** Resolves an indirect stream `/Length` (xref streams rarely have one). */
    private readonly lengthOf: (ref: PdfRef) => number | undefined,
  ) {}

  /** Reads the section at `offset`; throws a PdfError when there is none there. */
  read(offset: number): XrefSection {
    const parser = new ObjectParser(this.bytes, offset, this.bytes.length, this.limits.maxNesting);
    parser.skipWhitespace();
    const entries = new Map<number, XrefEntry>();
    const conflicts: XrefConflict[] = [];
    if (parser.startsWith('xref')) {
      parser.pos += 4;
      const trailer = this.readTable(parser, entries, conflicts);
      const end = revisionEndAfter(this.bytes, parser.pos);
      const xrefStm = trailer.get('XRefStm');
      if (typeof xrefStm === 'number' && Number.isInteger(xrefStm) && xrefStm >= 0 && xrefStm < this.bytes.length) {
        const streamEntries = new Map<number, XrefEntry>();
        this.readStream(xrefStm, streamEntries, conflicts);
        mergeHybrid(entries, streamEntries, conflicts);
        return { offset, kind: 'table', trailer, entries, end, xrefStreamOffset: xrefStm, conflicts };
      }
      return { offset, kind: 'table', trailer, entries, end, conflicts };
    }
    const trailer = this.readStream(offset, entries, conflicts);
    return { offset, kind: 'stream', trailer, entries, end: revisionEndAfter(this.bytes, offset), conflicts };
  }

  private add(entries: Map<number, XrefEntry>, num: number, entry: XrefEntry, conflicts: XrefConflict[]): void {
    if ((entries.size & 0xfff) === 0xfff) checkDeadline();
    const existing = entries.get(num);
    if (existing) {
      if (!sameEntry(existing, entry) && conflicts.length < 100) conflicts.push({ num, message: `object ${num} is listed twice in one cross-reference section (duplicate object number)` });
      return; // the first listing rules, as in most readers
    }
    if (entries.size >= this.limits.maxObjects) throw new PdfError('LIMIT_EXCEEDED', `the PDF has more than ${this.limits.maxObjects} objects`);
    entries.set(num, entry);
  }

  private readTable(parser: ObjectParser, entries: Map<number, XrefEntry>, conflicts: XrefConflict[]): PdfDict {
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
        if (type === 'n' && field1 > 0) this.add(entries, first + i, { kind: 'offset', offset: field1, gen }, conflicts);
        else if (type === 'n' || type === 'f') this.add(entries, first + i, { kind: 'free' }, conflicts);
        else throw new PdfError('MALFORMED', `bad xref entry type "${type.slice(0, 10)}"`);
      }
    }
  }

  private readStream(offset: number, entries: Map<number, XrefEntry>, conflicts: XrefConflict[]): PdfDict {
    const parser = new ObjectParser(this.bytes, offset, this.bytes.length, this.limits.maxNesting);
    const object = parser.parseIndirectObject(this.lengthOf);
    const stream = object.value;
    if (!(stream instanceof PdfStream) || !isName(stream.dict.get('Type'), 'XRef')) {
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
      if (count > this.limits.maxObjects) throw new PdfError('LIMIT_EXCEEDED', 'xref stream subsection too large');
      for (let i = 0; i < count; i++) {
        if (pos + rowLength > data.length) throw new PdfError('MALFORMED', 'xref stream shorter than its /Index says');
        const type = readField(widths[0]!, 1);
        const f2 = readField(widths[1]!, 0);
        const f3 = readField(widths[2]!, 0);
        if (type === 1) this.add(entries, first + i, { kind: 'offset', offset: f2, gen: f3 }, conflicts);
        else if (type === 2) this.add(entries, first + i, { kind: 'compressed', stream: f2, index: f3 }, conflicts);
        else if (type === 0) this.add(entries, first + i, { kind: 'free' }, conflicts);
      }
    }
    return stream.dict;
  }
}

/**
 * A hybrid file's table and its `/XRefStm` describe one revision. Readers that know xref streams
 * take the stream's entry where the table has none or lists the object as free (that is how
 * hybrid files hide compressed objects from older readers); where both give a location and the
 * two differ, readers disagree on what the file shows, which is recorded as a conflict.
 */
function mergeHybrid(table: Map<number, XrefEntry>, stream: Map<number, XrefEntry>, conflicts: XrefConflict[]): void {
  for (const [num, entry] of stream) {
    const listed = table.get(num);
    if (!listed || listed.kind === 'free') {
      if (entry.kind !== 'free') table.set(num, entry);
      continue;
    }
    if (entry.kind !== 'free' && !sameEntry(listed, entry) && conflicts.length < 100) {
      conflicts.push({ num, message: `object ${num} is at one place in the xref table and at another in its /XRefStm stream (hybrid-reference conflict)` });
    }
  }
}
