import { checkDeadline, rethrowIfOutOfTime } from './limits/deadline.js';
import { PdfError } from './errors.js';
import { decodeStream } from './filters.js';
import { PdfDict, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';
import { walkPageTree, type PageInfo } from './page-tree.js';
import { DEFAULT_MAX_NESTING, ObjectParser } from './parser.js';
import { reconstructSections, scanObjectHeaders } from './reconstruct.js';
import { decryptValue, openStandardSecurity, type ObjectDecryptor } from './security-handler.js';
import { XrefReader, type XrefEntry, type XrefSection } from './xref.js';

export type { XrefEntry, XrefSection } from './xref.js';
export type { PageInfo } from './page-tree.js';

export interface LoadOptions {
  /** The password of an encrypted file (user or owner); the empty user password is always tried. */
  password?: string;
}

export interface PdfLimits {
  maxObjects: number;
  maxXrefSections: number;
  maxPages: number;
  /** How deep arrays and dictionaries may nest. */
  maxNesting: number;
}

export const DEFAULT_PDF_LIMITS: PdfLimits = { maxObjects: 5_000_000, maxXrefSections: 10_000, maxPages: 100_000, maxNesting: DEFAULT_MAX_NESTING };

/**
 * One revision of the file: what one save wrote. Usually one xref section; a linearized file's
 * first-page section and its main section form one revision together.
 */
export interface Revision {
  /** 0 for the original document, then one per incremental update. */
  readonly index: number;
  /** Offset just past the revision's `%%EOF`. */
  readonly end: number;
  readonly trailer: PdfDict;
  /** The sections that make up the revision, newest first. */
  readonly sections: XrefSection[];
  /** Every entry the revision's xref lists (in use or free): what this save defined. */
  readonly entries: Map<number, XrefEntry>;
}

function headerOffset(bytes: Buffer): number {
  const at = bytes.indexOf('%PDF-', 0, 'latin1');
  if (bytes.length < 8 || at < 0 || at > 1024) throw new PdfError('NOT_PDF', 'the data is not a PDF (no %PDF- header)');
  return at;
}

function findStartXref(bytes: Buffer): number | undefined {
  const at = bytes.lastIndexOf('startxref', bytes.length, 'latin1');
  if (at < 0 || at < bytes.length - 4096) return undefined;
  try {
    const offset = new ObjectParser(bytes, at + 9).readNumber();
    return Number.isInteger(offset) && offset >= 0 && offset < bytes.length ? offset : undefined;
  } catch {
    return undefined;
  }
}

/** Groups xref sections (newest first) into revisions (oldest first). */
function groupRevisions(sections: XrefSection[]): Revision[] {
  const groups: XrefSection[][] = [];
  let highest = -1;
  for (const section of [...sections].reverse()) {
    // A newer section written before the one it chains to is a linearized file's first-page
    // section: part of the same save, not an update.
    if (groups.length > 0 && section.offset < highest) groups[groups.length - 1]!.unshift(section);
    else groups.push([section]);
    highest = Math.max(highest, section.offset);
  }
  return groups.map((group, index) => {
    const entries = new Map<number, XrefEntry>();
    for (const section of group) for (const [num, entry] of section.entries) if (!entries.has(num)) entries.set(num, entry);
    return { index, end: Math.max(...group.map((s) => s.end)), trailer: group[0]!.trailer, sections: group, entries };
  });
}

interface ObjectStreamIndex {
  offsets: Array<[number, number]>;
  data: Buffer;
  first: number;
}

/**
 * A PDF read once: the cross-reference chain is read on load and kept per revision, objects are
 * parsed on first use and shared by every revision that uses the same bytes. `view(i)` shows the
 * document as revision i left it; the document itself answers for its newest revision.
 */
export class PdfDocument {
  /** Xref sections, newest first (the `/Prev` chain). */
  readonly sections: XrefSection[] = [];
  /** Revisions, oldest first. */
  readonly revisions: Revision[];
  /** True when some object was found by scanning because the xref said it was elsewhere. */
  repaired = false;
  /** True when the xref chain could not be read and was rebuilt by scanning the file. */
  readonly reconstructed: boolean;
  /** Where the chain starts (the `startxref` value); -1 when the xref was reconstructed. */
  readonly startXref: number;
  /** Offset of `%PDF-`: bytes before it are not part of the PDF. */
  readonly headerOffset: number;
  /** Objects the xref lists that could not be parsed anywhere: read as null. */
  readonly unreadable = new Set<number>();
  private readonly parsed = new Map<string, PdfValue>();
  private readonly objectStreams = new Map<string, ObjectStreamIndex>();
  private readonly views: RevisionView[] = [];
  private scanned: Map<number, number[]> | undefined;

  /** How to decrypt objects of a file encrypted with the standard security handler. */
  readonly decryptor: ObjectDecryptor | undefined;
  /** Object numbers of encryption dictionaries: never decrypted themselves. */
  private readonly encryptionDicts = new Set<number>();

  private constructor(
    readonly bytes: Buffer,
    readonly limits: PdfLimits,
    options: LoadOptions,
  ) {
    this.headerOffset = headerOffset(bytes);
    const startXref = findStartXref(bytes);
    const reader = new XrefReader(bytes, limits, (ref) => this.lengthOfScanned(ref));
    let chainError: unknown;
    if (startXref !== undefined) {
      try {
        this.readChain(reader, startXref);
      } catch (err) {
        if (!(err instanceof PdfError) || err.code === 'LIMIT_EXCEEDED') throw err;
        chainError = err;
      }
    } else if (bytes.length < 64) {
      throw new PdfError('TRUNCATED', 'no startxref near the end of the file (truncated or not a complete PDF)');
    }
    if (startXref === undefined || chainError) {
      this.sections.length = 0;
      this.sections.push(...reconstructSections(bytes, this.scan(), reader, (offset) => this.parseIndirect(offset), limits.maxNesting));
      this.reconstructed = true;
      this.repaired = true;
      this.startXref = -1;
    } else {
      this.reconstructed = false;
      this.startXref = startXref;
    }
    this.revisions = groupRevisions(this.sections);
    if (!(this.trailer.get('Root') instanceof PdfRef)) throw new PdfError('MALFORMED', 'the trailer has no /Root');
    this.decryptor = this.openSecurity(options.password);
  }

  static load(bytes: Buffer, limits: PdfLimits = DEFAULT_PDF_LIMITS, options: LoadOptions = {}): PdfDocument {
    return new PdfDocument(bytes, limits, options);
  }

  get encrypted(): boolean {
    return this.decryptor !== undefined;
  }

  /** Every revision is decrypted with the newest trailer's /Encrypt and the first /ID element. */
  private openSecurity(password: string | undefined): ObjectDecryptor | undefined {
    const encrypt = this.trailer.get('Encrypt');
    if (encrypt === undefined) return undefined;
    for (const section of this.sections) {
      const ref = section.trailer.get('Encrypt');
      if (ref instanceof PdfRef) this.encryptionDicts.add(ref.num);
    }
    const dict = encrypt instanceof PdfRef ? this.latest.getObject(encrypt.num) : encrypt;
    if (!(dict instanceof PdfDict)) throw new PdfError('MALFORMED', 'the /Encrypt entry is not a dictionary');
    const ids = this.trailer.get('ID');
    const first = Array.isArray(ids) && ids[0] instanceof PdfString ? ids[0].bytes : Buffer.alloc(0);
    return openStandardSecurity(dict, first, password);
  }

  /** @internal Decrypts an object read at an offset (objects in object streams come decrypted with their stream). */
  decrypt(value: PdfValue, num: number, gen: number): PdfValue {
    if (!this.decryptor || this.encryptionDicts.has(num)) return value;
    return decryptValue(value, this.decryptor, num, gen);
  }

  private readChain(reader: XrefReader, start: number): void {
    const visited = new Set<number>();
    for (let offset: number | undefined = start; offset !== undefined; ) {
      if (visited.has(offset)) break;
      if (visited.size >= this.limits.maxXrefSections) throw new PdfError('LIMIT_EXCEEDED', 'too many xref sections');
      visited.add(offset);
      const section = reader.read(offset);
      this.sections.push(section);
      const prev = section.trailer.get('Prev');
      if (prev === undefined) break;
      if (typeof prev !== 'number' || !Number.isInteger(prev) || prev < 0 || prev >= this.bytes.length) {
        throw new PdfError('MALFORMED', `/Prev points outside the file (${String(prev)})`);
      }
      offset = prev;
    }
    if (!(this.sections[0]!.trailer.get('Root') instanceof PdfRef)) throw new PdfError('MALFORMED', 'the trailer has no /Root');
  }

  /** The file as revision `index` (0-based, oldest first) left it. */
  view(index: number): RevisionView {
    if (!Number.isInteger(index) || index < 0 || index >= this.revisions.length) throw new RangeError(`no revision ${index}`);
    this.views[index] ??= new RevisionView(this, index);
    return this.views[index]!;
  }

  get latest(): RevisionView {
    return this.view(this.revisions.length - 1);
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
    for (const revision of this.revisions) for (const num of revision.entries.keys()) if (num + 1 > size) size = num + 1;
    return size;
  }

  entry(num: number): XrefEntry | undefined {
    return this.latest.entry(num);
  }

  getObject(num: number): PdfValue | undefined {
    return this.latest.getObject(num);
  }

  resolve(value: PdfValue | undefined): PdfValue | undefined {
    return this.latest.resolve(value);
  }

  resolveDict(value: PdfValue | undefined): PdfDict | undefined {
    return this.latest.resolveDict(value);
  }

  catalog(): PdfDict {
    return this.latest.catalog();
  }

  get rootRef(): PdfRef {
    return this.trailer.get('Root') as PdfRef;
  }

  pages(): PageInfo[] {
    return this.latest.pages();
  }

  /** Object headers found by scanning the file (done once, only when something needs it). */
  scan(): Map<number, number[]> {
    this.scanned ??= scanObjectHeaders(this.bytes);
    return this.scanned;
  }

  private lengthOfScanned(ref: PdfRef): number | undefined {
    const offsets = this.scanned?.get(ref.num);
    if (!offsets) return undefined;
    const parsed = this.parseIndirect(offsets[offsets.length - 1]!, () => undefined);
    return typeof parsed?.value === 'number' ? parsed.value : undefined;
  }

  /** Parses `n g obj ... endobj` at `offset`, or undefined when there is none there. */
  parseIndirect(offset: number, lengthOf: (ref: PdfRef) => number | undefined = (ref) => this.lengthOfScanned(ref)): { num: number; gen: number; value: PdfValue } | undefined {
    if (offset < 0 || offset >= this.bytes.length) return undefined;
    try {
      const object = new ObjectParser(this.bytes, offset, this.bytes.length, this.limits.maxNesting).parseIndirectObject(lengthOf);
      return { num: object.num, gen: object.gen, value: object.value };
    } catch (err) {
      if (err instanceof PdfError && err.code === 'LIMIT_EXCEEDED') throw err;
      rethrowIfOutOfTime(err);
      return undefined;
    }
  }

  /** @internal Parsed objects by where they are stored, shared by every revision view. */
  cached(key: string, load: () => PdfValue | undefined): PdfValue | undefined {
    if (this.parsed.has(key)) return this.parsed.get(key)!;
    const value = load() ?? null;
    this.parsed.set(key, value);
    return value;
  }

  /** @internal An object stream's index and decoded data, once per stored stream. */
  objectStream(key: string, streamNum: number, stream: PdfValue | undefined): ObjectStreamIndex {
    const known = this.objectStreams.get(key);
    if (known) return known;
    if (!(stream instanceof PdfStream)) throw new PdfError('MALFORMED', `object ${streamNum} is not an object stream`);
    const n = stream.dict.get('N');
    const first = stream.dict.get('First');
    if (typeof n !== 'number' || typeof first !== 'number' || !Number.isInteger(n) || n < 0 || first < 0 || n > this.limits.maxObjects) {
      throw new PdfError('MALFORMED', `object stream ${streamNum} has a bad /N or /First`);
    }
    const data = decodeStream(stream);
    const header = new ObjectParser(data, 0, Math.min(first, data.length), this.limits.maxNesting);
    const offsets: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      if ((i & 0xfff) === 0xfff) checkDeadline();
      offsets.push([header.readNumber(), header.readNumber()]);
    }
    const index = { offsets, data, first };
    this.objectStreams.set(key, index);
    return index;
  }
}

/** The document as one revision left it: objects resolved through that revision's xref chain. */
export class RevisionView {
  private pageList: PageInfo[] | undefined;
  private readonly locations = new Map<number, string | null>();

  constructor(
    readonly doc: PdfDocument,
    readonly index: number,
  ) {}

  get revision(): Revision {
    return this.doc.revisions[this.index]!;
  }

  get trailer(): PdfDict {
    return this.revision.trailer;
  }

  /** The entry that rules for `num` in this revision: its own, or the newest earlier one. */
  entry(num: number): XrefEntry | undefined {
    for (let i = this.index; i >= 0; i--) {
      const entry = this.doc.revisions[i]!.entries.get(num);
      if (entry) return entry;
    }
    return undefined;
  }

  /** Which revision's entry rules for `num` here (undefined when no revision lists it). */
  definedIn(num: number): number | undefined {
    for (let i = this.index; i >= 0; i--) if (this.doc.revisions[i]!.entries.has(num)) return i;
    return undefined;
  }

  /**
   * A key naming where object `num` is stored in this revision: the same key in two revisions
   * means the same bytes, so the same object. Null when the object does not exist.
   */
  location(num: number): string | null {
    const known = this.locations.get(num);
    if (known !== undefined) return known;
    const entry = this.entry(num);
    this.locations.set(num, null); // an object stream that claims to hold itself resolves to nothing
    let key: string | null = null;
    if (entry?.kind === 'offset') key = `${num}@${entry.offset}`;
    else if (entry?.kind === 'compressed') {
      const container = this.location(entry.stream);
      key = container === null ? null : `${num}@${container}#${entry.index}`;
    }
    this.locations.set(num, key);
    return key;
  }

  /** Returns the object with this number, or undefined when it does not exist (free or missing). */
  getObject(num: number): PdfValue | undefined {
    checkDeadline();
    const key = this.location(num);
    if (key === null) return undefined;
    const value = this.doc.cached(key, () => this.load(num));
    return value === null ? undefined : value;
  }

  private load(num: number): PdfValue | undefined {
    const entry = this.entry(num)!;
    if (entry.kind === 'compressed') return this.loadCompressed(num, entry.stream, entry.index);
    if (entry.kind !== 'offset') return undefined;
    const lengthOf = (ref: PdfRef): number | undefined => {
      if (ref.num === num) return undefined;
      const value = this.getObject(ref.num);
      return typeof value === 'number' ? value : undefined;
    };
    const direct = this.doc.parseIndirect(entry.offset, lengthOf);
    if (direct && direct.num === num) return this.doc.decrypt(direct.value, num, direct.gen);
    // The xref says the object is somewhere it is not: take its last definition within this revision.
    const candidates = (this.doc.scan().get(num) ?? []).filter((o) => o < this.revision.end);
    for (let i = candidates.length - 1; i >= 0; i--) {
      const found = this.doc.parseIndirect(candidates[i]!, lengthOf);
      if (found && found.num === num) {
        this.doc.repaired = true;
        return this.doc.decrypt(found.value, num, found.gen);
      }
    }
    // Nowhere readable: like other readers, treat it as the null object, and say so.
    this.doc.unreadable.add(num);
    return undefined;
  }

  private loadCompressed(num: number, streamNum: number, index: number): PdfValue {
    const container = this.entry(streamNum);
    if (container?.kind !== 'offset') throw new PdfError('MALFORMED', `object stream ${streamNum} is missing`);
    const key = this.location(streamNum)!;
    const objStm = this.doc.objectStream(key, streamNum, this.getObject(streamNum));
    const slot = objStm.offsets[index];
    if (!slot || slot[0] !== num) throw new PdfError('MALFORMED', `object ${num} is not in object stream ${streamNum}`);
    return new ObjectParser(objStm.data, objStm.first + slot[1], objStm.data.length, this.doc.limits.maxNesting).parseValue();
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

  pages(): PageInfo[] {
    this.pageList ??= walkPageTree(this, this.doc.limits.maxPages);
    return this.pageList;
  }
}
