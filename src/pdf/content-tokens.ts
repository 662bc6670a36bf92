import { PdfDict, PdfName, PdfString, type PdfValue } from './objects.js';

/**
 * A forgiving reader of content-stream syntax (also used for CMap files, which share it): operands
 * are collected until an operator keyword, which is returned with them. It never throws: bytes that
 * fit no token are skipped, unbalanced `]` / `>>` are ignored, an unterminated string ends the
 * stream, and the operand stack is bounded. Arrays and dictionaries are built without recursion.
 */

const WHITESPACE = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WHITESPACE[c] = 1;
const DELIMITER = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIMITER[c.charCodeAt(0)] = 1;
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Keywords of up to three bytes, by their bytes (operators repeat a lot; garbage cannot grow it far). */
const KEYWORDS = new Map<number, string>();
const MAX_CACHED_KEYWORDS = 4096;

const ARRAY_MARK = Symbol('[');
const DICT_MARK = Symbol('<<');
type Mark = typeof ARRAY_MARK | typeof DICT_MARK;

const MAX_OPEN_MARKS = 256;
const MAX_OPERATOR_LENGTH = 32;
/** PDF names are at most 127 bytes (PDF 32000-1, Annex C); some slack for sloppy writers. */
const MAX_NAME_LENGTH = 1024;

function isRegular(c: number): boolean {
  return WHITESPACE[c] === 0 && DELIMITER[c] === 0;
}

/** Parses a PDF number (`[+-]digits[.digits]`); NaN when the token is not one. */
function parseNumber(buf: Buffer, start: number, end: number): number {
  let i = start;
  let negative = false;
  const first = buf[i];
  if (first === 0x2b || first === 0x2d) {
    negative = first === 0x2d;
    i++;
  }
  let value = 0;
  let digits = 0;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
    value = value * 10 + (buf[i]! - 0x30);
    i++;
    digits++;
  }
  if (i < end && buf[i] === 0x2e) {
    i++;
    let scale = 1;
    while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
      scale /= 10;
      value += (buf[i]! - 0x30) * scale;
      i++;
      digits++;
    }
  }
  if (i !== end || digits === 0) return NaN;
  if (!Number.isFinite(value)) value = 0;
  return negative ? -value : value;
}

export class ContentReader {
  /** The operands of the operator last returned by `next()`. */
  operands: PdfValue[] = [];
  pos: number;
  private stack: Array<PdfValue | Mark> = [];
  /** Indices in `stack` of the open `[` and `<<`. */
  private marks: number[] = [];
  private readonly end: number;

  constructor(
    readonly buf: Buffer,
    /** Beyond this many pending operands (including array elements) the stack is dropped. */
    private readonly maxOperands = 65_536,
  ) {
    this.pos = 0;
    this.end = buf.length;
  }

  /** Reads up to the next operator and returns it, or null at the end of the data. */
  next(): string | null {
    const { buf, end } = this;
    let pos = this.pos;
    for (;;) {
      while (pos < end) {
        const c = buf[pos]!;
        if (WHITESPACE[c]) pos++;
        else if (c === 0x25 /* % */) {
          while (pos < end && buf[pos] !== 0x0a && buf[pos] !== 0x0d) pos++;
        } else break;
      }
      if (pos >= end) {
        this.pos = pos;
        this.stack = [];
        this.marks = [];
        this.operands = [];
        return null;
      }
      if (this.stack.length > this.maxOperands) {
        this.stack = [];
        this.marks = [];
      }
      const c = buf[pos]!;
      switch (c) {
        case 0x2f /* / */: {
          pos = this.readName(pos + 1);
          continue;
        }
        case 0x28 /* ( */: {
          const after = this.readLiteralString(pos + 1);
          if (after < 0) {
            pos = end; // unterminated: nothing after it can be read reliably
            continue;
          }
          pos = after;
          continue;
        }
        case 0x3c /* < */: {
          if (buf[pos + 1] === 0x3c) {
            this.openMark(DICT_MARK);
            pos += 2;
          } else pos = this.readHexString(pos + 1);
          continue;
        }
        case 0x3e /* > */: {
          if (buf[pos + 1] === 0x3e) {
            this.closeDict();
            pos += 2;
          } else pos++;
          continue;
        }
        case 0x5b /* [ */:
          this.openMark(ARRAY_MARK);
          pos++;
          continue;
        case 0x5d /* ] */:
          this.closeArray();
          pos++;
          continue;
        case 0x7b: // {
        case 0x7d: // }
        case 0x29: // )
          pos++;
          continue;
        default:
          break;
      }
      const start = pos;
      while (pos < end && isRegular(buf[pos]!)) pos++;
      if (pos === start) {
        pos++; // cannot happen (every non-delimiter, non-space byte is regular), but never stall
        continue;
      }
      if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
        const value = parseNumber(buf, start, pos);
        if (!Number.isNaN(value)) {
          this.stack.push(value);
          continue;
        }
      }
      const keyword = this.keyword(start, pos);
      if (keyword === 'true' || keyword === 'false') {
        this.stack.push(keyword === 'true');
        continue;
      }
      if (keyword === 'null') {
        this.stack.push(null);
        continue;
      }
      this.pos = keyword === 'ID' ? this.skipInlineImage(pos) : pos;
      this.finishOperands();
      return keyword === 'ID' ? 'EI' : keyword;
    }
  }

  /** The keyword in buf[start, end): short ones come from a cache, long ones are not spelled out. */
  private keyword(start: number, end: number): string {
    const length = end - start;
    const buf = this.buf;
    if (length <= 3) {
      let key = length;
      for (let i = start; i < end; i++) key = key * 256 + buf[i]!;
      let cached = KEYWORDS.get(key);
      if (cached === undefined) {
        cached = buf.toString('latin1', start, end);
        if (KEYWORDS.size < MAX_CACHED_KEYWORDS) KEYWORDS.set(key, cached);
      }
      return cached;
    }
    return length <= MAX_OPERATOR_LENGTH ? buf.toString('latin1', start, end) : '\u0000garbage';
  }

  private finishOperands(): void {
    const stack = this.stack;
    this.operands = this.marks.length === 0 ? (stack as PdfValue[]) : (stack.filter((v) => typeof v !== 'symbol') as PdfValue[]);
    this.stack = [];
    this.marks = [];
  }

  private openMark(mark: Mark): void {
    if (this.marks.length >= MAX_OPEN_MARKS) {
      this.stack = [];
      this.marks = [];
    }
    this.marks.push(this.stack.length);
    this.stack.push(mark);
  }

  private closeArray(): void {
    const at = this.marks[this.marks.length - 1];
    if (at === undefined || this.stack[at] !== ARRAY_MARK) return; // stray or mismatched ']'
    this.marks.pop();
    const items = this.stack.splice(at) as PdfValue[];
    items.shift();
    this.stack.push(items);
  }

  private closeDict(): void {
    const at = this.marks[this.marks.length - 1];
    if (at === undefined || this.stack[at] !== DICT_MARK) return;
    this.marks.pop();
    const items = this.stack.splice(at) as PdfValue[];
    const dict = new PdfDict();
    for (let i = 1; i + 1 < items.length; i += 2) {
      const key = items[i];
      if (key instanceof PdfName) dict.set(key.value, items[i + 1]!);
    }
    this.stack.push(dict);
  }

  private readName(start: number): number {
    const { buf, end } = this;
    let pos = start;
    let escaped = false;
    while (pos < end && isRegular(buf[pos]!)) {
      if (buf[pos] === 0x23) escaped = true;
      pos++;
    }
    if (pos - start > MAX_NAME_LENGTH) {
      this.stack.push(null); // longer than any real name: not interned, so it cannot bloat the name table
      return pos;
    }
    if (!escaped) {
      this.stack.push(PdfName.of(buf.toString('latin1', start, pos)));
      return pos;
    }
    const bytes: number[] = [];
    for (let i = start; i < pos; i++) {
      const ch = buf[i]!;
      if (ch === 0x23 && i + 2 < pos && HEX[buf[i + 1]!]! >= 0 && HEX[buf[i + 2]!]! >= 0) {
        bytes.push(HEX[buf[i + 1]!]! * 16 + HEX[buf[i + 2]!]!);
        i += 2;
      } else bytes.push(ch);
    }
    this.stack.push(PdfName.of(Buffer.from(bytes).toString('latin1')));
    return pos;
  }

  /** Reads a literal string whose `(` is just before `start`; returns the offset after it, or -1. */
  private readLiteralString(start: number): number {
    const { buf, end } = this;
    // Fast path: no escapes and no nested parentheses.
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c === 0x29) {
        this.stack.push(new PdfString(buf.subarray(start, i)));
        return i + 1;
      }
      if (c === 0x5c || c === 0x28) break;
    }
    let out = Buffer.allocUnsafe(Math.min(end - start, 256));
    let n = 0;
    const put = (b: number): void => {
      if (n === out.length) {
        const bigger = Buffer.allocUnsafe(Math.min(out.length * 2, end - start + 1));
        out.copy(bigger, 0, 0, n);
        out = bigger;
      }
      out[n++] = b;
    };
    let depth = 1;
    let pos = start;
    while (pos < end) {
      const c = buf[pos++]!;
      if (c === 0x5c /* \ */) {
        if (pos >= end) break;
        const e = buf[pos++]!;
        switch (e) {
          case 0x6e: put(0x0a); break;
          case 0x72: put(0x0d); break;
          case 0x74: put(0x09); break;
          case 0x62: put(0x08); break;
          case 0x66: put(0x0c); break;
          case 0x0d:
            if (buf[pos] === 0x0a) pos++;
            break;
          case 0x0a:
            break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let value = e - 0x30;
              for (let k = 0; k < 2 && pos < end && buf[pos]! >= 0x30 && buf[pos]! <= 0x37; k++) value = value * 8 + (buf[pos++]! - 0x30);
              put(value & 0xff);
            } else put(e);
        }
      } else if (c === 0x28) {
        depth++;
        put(c);
      } else if (c === 0x29) {
        if (--depth === 0) {
          this.stack.push(new PdfString(Buffer.from(out.subarray(0, n))));
          return pos;
        }
        put(c);
      } else put(c);
    }
    return -1;
  }

  /** Reads a hex string whose `<` is just before `start`, ignoring bytes that are not hex digits. */
  private readHexString(start: number): number {
    const { buf, end } = this;
    let close = buf.indexOf(0x3e, start);
    if (close < 0 || close >= end) close = end;
    const out = Buffer.allocUnsafe(Math.ceil((close - start) / 2));
    let n = 0;
    let high = -1;
    for (let i = start; i < close; i++) {
      const v = HEX[buf[i]!]!;
      if (v < 0) continue;
      if (high < 0) high = v;
      else {
        out[n++] = high * 16 + v;
        high = -1;
      }
    }
    if (high >= 0) out[n++] = high * 16;
    this.stack.push(new PdfString(Buffer.from(out.subarray(0, n)), true));
    return close + 1;
  }

  /** Skips the data of an inline image (after `ID`) up to its `EI`; returns the offset after it. */
  private skipInlineImage(pos: number): number {
    const { buf, end } = this;
    let from = pos + 1; // the single white-space byte after ID
    for (;;) {
      const at = buf.indexOf('EI', from, 'latin1');
      if (at < 0 || at + 2 > end) return end;
      const before = buf[at - 1];
      const after = buf[at + 2];
      if ((before === undefined || WHITESPACE[before]) && (after === undefined || at + 2 >= end || WHITESPACE[after])) return at + 2;
      from = at + 1;
    }
  }
}
