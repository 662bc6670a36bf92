import { chargeParsedValues } from './limits/work-budget.js';
import { PdfError } from './errors.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';

/** How deep arrays and dictionaries may nest unless the caller sets another limit. */
export const DEFAULT_MAX_NESTING = 64;

/**
 * Parsed values are charged to the request's work budget in batches (the budget lives in async
 * context, too costly to look up per value). The count is shared by every parser, since most
 * parse one small object each; a batch may straddle two requests by under a batch.
 */
const VALUE_CHARGE_BATCH = 1024;
let valuesNotCharged = 0;

const WHITESPACE = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WHITESPACE[c] = 1;
const DELIMITER = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIMITER[c.charCodeAt(0)] = 1;

export function isWhitespace(c: number): boolean {
  return WHITESPACE[c] === 1;
}

function isRegular(c: number | undefined): boolean {
  return c !== undefined && WHITESPACE[c] === 0 && DELIMITER[c] === 0;
}

/** Resolves the `/Length` of a stream when it is an indirect reference. */
export type LengthResolver = (ref: PdfRef) => number | undefined;

export interface IndirectObject {
  num: number;
  gen: number;
  value: PdfValue;
  /** Offset just after `endobj` (or where parsing stopped). */
  end: number;
}

/**
 * Parses PDF objects out of a byte buffer, starting anywhere. Every read is bounds-checked and
 * every failure is a PdfError, so hostile input cannot throw anything else.
 */
export class ObjectParser {
  pos: number;
  constructor(
    readonly buf: Buffer,
    pos = 0,
    private readonly end = buf.length,
    private readonly maxNesting = DEFAULT_MAX_NESTING,
  ) {
    this.pos = pos;
  }

  private fail(message: string): never {
    throw new PdfError('MALFORMED', `${message} at offset ${this.pos}`);
  }

  skipWhitespace(): void {
    const { buf, end } = this;
    while (this.pos < end) {
      const c = buf[this.pos]!;
      if (WHITESPACE[c]) this.pos++;
      else if (c === 0x25 /* % */) {
        while (this.pos < end && buf[this.pos] !== 0x0a && buf[this.pos] !== 0x0d) this.pos++;
      } else break;
    }
  }

  /** Reads a run of regular characters (a keyword or number). */
  readToken(): string {
    this.skipWhitespace();
    const start = this.pos;
    while (this.pos < this.end && isRegular(this.buf[this.pos])) this.pos++;
    return this.buf.toString('latin1', start, this.pos);
  }

  expectKeyword(keyword: string): void {
    const token = this.readToken();
    if (token !== keyword) this.fail(`expected "${keyword}", found "${token.slice(0, 20)}"`);
  }

  parseValue(depth = 0): PdfValue {
    if (++valuesNotCharged === VALUE_CHARGE_BATCH) {
      valuesNotCharged = 0;
      chargeParsedValues(VALUE_CHARGE_BATCH);
    }
    if (depth > this.maxNesting) throw new PdfError('LIMIT_EXCEEDED', 'objects nested too deeply');
    this.skipWhitespace();
    if (this.pos >= this.end) throw new PdfError('TRUNCATED', 'unexpected end of data inside an object');
    const c = this.buf[this.pos]!;
    switch (c) {
      case 0x2f /* / */:
        return this.parseName();
      case 0x28 /* ( */:
        return this.parseLiteralString();
      case 0x3c /* < */:
        if (this.buf[this.pos + 1] === 0x3c) return this.parseDict(depth);
        return this.parseHexString();
      case 0x5b /* [ */:
        return this.parseArray(depth);
      default:
        break;
    }
    if (c === 0x2b || c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39)) return this.parseNumberOrRef();
    const token = this.readToken();
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (token === 'null') return null;
    if (token === '') this.fail(`unexpected character 0x${c.toString(16)}`);
    this.fail(`unexpected keyword "${token.slice(0, 20)}"`);
  }

  private parseNumberOrRef(): number | PdfRef {
    const first = this.readNumber();
    if (!Number.isInteger(first) || first < 0) return first;
    const save = this.pos;
    this.skipWhitespace();
    const c = this.buf[this.pos];
    if (c !== undefined && c >= 0x30 && c <= 0x39) {
      const genStart = this.pos;
      while (this.pos < this.end && this.buf[this.pos]! >= 0x30 && this.buf[this.pos]! <= 0x39) this.pos++;
      if (!isRegular(this.buf[this.pos])) {
        const gen = Number(this.buf.toString('latin1', genStart, this.pos));
        this.skipWhitespace();
        if (this.buf[this.pos] === 0x52 /* R */ && !isRegular(this.buf[this.pos + 1])) {
          this.pos++;
          return new PdfRef(first, gen);
        }
      }
    }
    this.pos = save;
    return first;
  }

  readNumber(): number {
    this.skipWhitespace();
    const start = this.pos;
    while (this.pos < this.end && isRegular(this.buf[this.pos])) this.pos++;
    const text = this.buf.toString('latin1', start, this.pos);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) {
      this.pos = start;
      this.fail(`bad number "${text.slice(0, 20)}"`);
    }
    return Number(text);
  }

  private parseName(): PdfName {
    const { buf } = this;
    this.pos++; // '/'
    const start = this.pos;
    while (this.pos < this.end && isRegular(buf[this.pos])) this.pos++;
    const raw = buf.subarray(start, this.pos);
    if (!raw.includes(0x23 /* # */)) return PdfName.of(raw.toString('latin1'));
    const bytes: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const ch = raw[i]!;
      if (ch === 0x23 && i + 2 < raw.length + 0) {
        const hex = raw.toString('latin1', i + 1, i + 3);
        if (/^[0-9a-fA-F]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
          continue;
        }
      }
      bytes.push(ch);
    }
    return PdfName.of(Buffer.from(bytes).toString('latin1'));
  }

  private parseLiteralString(): PdfString {
    const { buf, end } = this;
    this.pos++; // '('
    const out: number[] = [];
    let depth = 1;
    while (this.pos < end) {
      const c = buf[this.pos++]!;
      if (c === 0x5c /* \ */) {
        if (this.pos >= end) break;
        const e = buf[this.pos++]!;
        switch (e) {
          case 0x6e: out.push(0x0a); break; // n
          case 0x72: out.push(0x0d); break; // r
          case 0x74: out.push(0x09); break; // t
          case 0x62: out.push(0x08); break; // b
          case 0x66: out.push(0x0c); break; // f
          case 0x0d: if (buf[this.pos] === 0x0a) this.pos++; break; // line continuation
          case 0x0a: break;
          default:
            if (e >= 0x30 && e <= 0x37) {
              let value = e - 0x30;
              for (let k = 0; k < 2 && this.pos < end; k++) {
                const d = buf[this.pos]!;
                if (d < 0x30 || d > 0x37) break;
                value = value * 8 + (d - 0x30);
                this.pos++;
              }
              out.push(value & 0xff);
            } else out.push(e);
        }
      } else if (c === 0x28) {
        depth++;
        out.push(c);
      } else if (c === 0x29) {
        if (--depth === 0) return new PdfString(Buffer.from(out));
        out.push(c);
      } else out.push(c);
    }
    throw new PdfError('TRUNCATED', 'unterminated string');
  }

  private parseHexString(): PdfString {
    const { buf, end } = this;
    this.pos++; // '<'
    const start = this.pos;
    const close = buf.indexOf(0x3e, start);
    if (close < 0 || close >= end) throw new PdfError('TRUNCATED', 'unterminated hex string');
    let digits = '';
    for (let i = start; i < close; i++) {
      const c = buf[i]!;
      if (WHITESPACE[c]) continue;
      const isHex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
      if (!isHex) {
        this.pos = i;
        this.fail('bad character in hex string');
      }
      digits += String.fromCharCode(c);
    }
    if (digits.length % 2) digits += '0';
    this.pos = close + 1;
    return new PdfString(Buffer.from(digits, 'hex'), true);
  }

  private parseArray(depth: number): PdfValue[] {
    this.pos++; // '['
    const items: PdfValue[] = [];
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= this.end) throw new PdfError('TRUNCATED', 'unterminated array');
      if (this.buf[this.pos] === 0x5d /* ] */) {
        this.pos++;
        return items;
      }
      items.push(this.parseValue(depth + 1));
    }
  }

  private parseDict(depth: number): PdfDict {
    this.pos += 2; // '<<'
    const result = new PdfDict();
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= this.end) throw new PdfError('TRUNCATED', 'unterminated dictionary');
      const c = this.buf[this.pos];
      if (c === 0x3e /* > */ && this.buf[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return result;
      }
      if (c !== 0x2f) this.fail('dictionary key is not a name');
      const key = this.parseName();
      result.set(key.value, this.parseValue(depth + 1));
    }
  }

  /**
   * Parses `num gen obj ... endobj` at the current position. Streams take their length from
   * `/Length` (resolved through `resolveLength` when indirect) and fall back to searching for
   * `endstream` when the length is missing or wrong.
   */
  parseIndirectObject(resolveLength: LengthResolver): IndirectObject {
    const num = this.readNumber();
    const gen = this.readNumber();
    if (!Number.isInteger(num) || !Number.isInteger(gen) || num < 0 || gen < 0) this.fail('bad object header');
    this.expectKeyword('obj');
    let value = this.parseValue();
    this.skipWhitespace();
    if (value instanceof PdfDict && this.startsWith('stream')) {
      value = this.parseStreamBody(value, resolveLength);
      this.skipWhitespace();
    }
    if (this.startsWith('endobj')) this.pos += 6;
    return { num, gen, value, end: this.pos };
  }

  startsWith(keyword: string): boolean {
    for (let i = 0; i < keyword.length; i++) {
      if (this.buf[this.pos + i] !== keyword.charCodeAt(i)) return false;
    }
    return !isRegular(this.buf[this.pos + keyword.length]);
  }

  private parseStreamBody(streamDict: PdfDict, resolveLength: LengthResolver): PdfStream {
    const { buf } = this;
    this.pos += 6; // 'stream'
    if (buf[this.pos] === 0x0d) this.pos++;
    if (buf[this.pos] === 0x0a) this.pos++;
    const dataStart = this.pos;
    const lengthValue = streamDict.get('Length');
    const declared = lengthValue instanceof PdfRef ? resolveLength(lengthValue) : lengthValue;
    if (typeof declared === 'number' && Number.isInteger(declared) && declared >= 0 && dataStart + declared <= this.end) {
      const after = new ObjectParser(buf, dataStart + declared, this.end, this.maxNesting);
      after.skipWhitespace();
      if (after.startsWith('endstream')) {
        this.pos = after.pos + 9;
        return new PdfStream(streamDict, buf.subarray(dataStart, dataStart + declared));
      }
    }
    const endstream = buf.indexOf('endstream', dataStart, 'latin1');
    if (endstream < 0 || endstream > this.end) throw new PdfError('TRUNCATED', `stream at offset ${dataStart} has no end`);
    let dataEnd = endstream;
    if (buf[dataEnd - 1] === 0x0a) dataEnd--;
    if (buf[dataEnd - 1] === 0x0d) dataEnd--;
    this.pos = endstream + 9;
    return new PdfStream(streamDict, buf.subarray(dataStart, Math.max(dataStart, dataEnd)));
  }
}
