/** The PDF object model used by the incremental reader and writer. */

export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly value: string) {}
  static of(value: string): PdfName {
    let name = PdfName.interned.get(value);
    if (!name) {
      name = new PdfName(value);
      if (value.length <= 64 && PdfName.interned.size < 10_000) PdfName.interned.set(value, name);
    }
    return name;
  }
}

export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
  get key(): string {
    return `${this.num} ${this.gen}`;
  }
}

/** A string object: raw bytes as written (after escape decoding); `hex` records its spelling. */
export class PdfString {
  constructor(
    readonly bytes: Buffer,
    readonly hex = false,
  ) {}
  /** Text string per PDF 7.9.2.2: UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding (approximated as Latin-1). */
  toText(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
      const body = b.subarray(2, 2 + ((b.length - 2) & ~1));
      return Buffer.from(body).swap16().toString('utf16le');
    }
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString('utf8');
    return b.toString('latin1');
  }
  static fromText(text: string): PdfString {
    // eslint-disable-next-line no-control-regex
    if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(Buffer.from(text, 'latin1'));
    const utf16 = Buffer.from(text, 'utf16le');
    utf16.swap16();
    return new PdfString(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16]), true);
  }
}

export class PdfDict {
  readonly entries: Map<string, PdfValue>;
  constructor(entries?: Iterable<[string, PdfValue]>) {
    this.entries = new Map(entries);
  }
  get(key: string): PdfValue | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: PdfValue): this {
    this.entries.set(key, value);
    return this;
  }
  has(key: string): boolean {
    return this.entries.has(key);
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  clone(): PdfDict {
    return new PdfDict(this.entries);
  }
}

export class PdfStream {
  constructor(
    readonly dict: PdfDict,
    /** The stream's bytes exactly as stored in the file (still encoded). */
    readonly raw: Buffer,
  ) {}
}

/**
 * A hole in an object being written whose bytes are filled in after the update is laid out:
 * the signature's `/Contents` (hex of `size` bytes) and its `/ByteRange` (four numbers).
 * The writer records where the hole starts in the appended bytes.
 */
export class PdfHole {
  offset = -1;
  length = -1;
  constructor(
    readonly kind: 'contents' | 'byteRange',
    readonly size = 0,
  ) {}
}

export type PdfValue =
  | null
  | PdfHole
  | boolean
  | number
  | PdfName
  | PdfString
  | PdfRef
  | PdfDict
  | PdfValue[]
  | PdfStream;

export const name = PdfName.of;

export function isName(value: PdfValue | undefined, expected?: string): value is PdfName {
  return value instanceof PdfName && (expected === undefined || value.value === expected);
}

export function dict(entries: Record<string, PdfValue>): PdfDict {
  return new PdfDict(Object.entries(entries));
}
