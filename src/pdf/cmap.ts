import { ContentReader } from './content-tokens.js';
import { glyphNameToUnicode } from './font-encoding.js';
import { PdfName, PdfString, type PdfValue } from './objects.js';

/**
 * Embedded CMaps (PDF 32000-1, 9.7.5 and 9.10.3): a font's `/ToUnicode` map (bfchar, bfrange in
 * both forms) and embedded encoding CMaps of composite fonts (codespace ranges, cidchar, cidrange).
 * Ranges are expanded into maps, bounded by a budget shared between all CMaps of a document so
 * hostile ranges cannot exhaust memory; entries beyond it are dropped.
 */

export interface CodespaceRange {
  readonly length: number;
  readonly low: Uint8Array;
  readonly high: Uint8Array;
}

/** Map entries that may still be created (decremented as CMaps are parsed). */
export interface CMapBudget {
  remaining: number;
}

/** The longest range expanded: ranges beyond it are cut to this many codes. */
const MAX_RANGE = 0x10000;
const MAX_OPERANDS = 1 << 20;

function codeKey(code: number, length: number): number {
  return length * 0x1_0000_0000 + code;
}

function codeOf(bytes: Buffer): number | undefined {
  if (bytes.length < 1 || bytes.length > 4) return undefined;
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return value;
}

/** A bfchar/bfrange destination: UTF-16BE (a lone byte is taken as a character code). */
function utf16Units(bytes: Buffer): number[] {
  if (bytes.length === 1) return [bytes[0]!];
  const units: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) units.push((bytes[i]! << 8) | bytes[i + 1]!);
  return units;
}

function unitsToString(units: number[]): string {
  let out = '';
  for (const u of units) out += String.fromCharCode(u);
  return out;
}

function destination(value: PdfValue | undefined): string | undefined {
  if (value instanceof PdfString) return unitsToString(utf16Units(value.bytes));
  if (value instanceof PdfName) return glyphNameToUnicode(value.value);
  return undefined;
}

export class CMap {
  readonly codespace: CodespaceRange[] = [];
  private readonly unicode = new Map<number, string>();
  private readonly cids = new Map<number, number>();
  /** True for `/WMode 1` (vertical writing). */
  vertical = false;
  /** The name given to `usecmap`, if any (not followed). */
  useCMap: string | undefined;

  get unicodeSize(): number {
    return this.unicode.size;
  }

  get cidSize(): number {
    return this.cids.size;
  }

  lookupUnicode(code: number, length: number): string | undefined {
    const exact = this.unicode.get(codeKey(code, length));
    if (exact !== undefined) return exact;
    // Some producers write ToUnicode source codes with another byte length than the font uses.
    for (let len = 1; len <= 4; len++) {
      if (len === length || code >= 256 ** len) continue;
      const other = this.unicode.get(codeKey(code, len));
      if (other !== undefined) return other;
    }
    return undefined;
  }

  lookupCid(code: number, length: number): number | undefined {
    return this.cids.get(codeKey(code, length));
  }

  /** Length of the code starting at `pos` per the codespace ranges (PDF 32000-1, 9.7.6.2). */
  codeLength(bytes: Buffer, pos: number, fallback: number): number {
    const left = bytes.length - pos;
    let shortest = 0;
    for (const range of this.codespace) {
      if (shortest === 0 || range.length < shortest) shortest = range.length;
      if (range.length > left) continue;
      let ok = true;
      for (let k = 0; k < range.length; k++) {
        const b = bytes[pos + k]!;
        if (b < range.low[k]! || b > range.high[k]!) {
          ok = false;
          break;
        }
      }
      if (ok) return range.length;
    }
    const length = shortest || fallback;
    return Math.max(1, Math.min(length, left));
  }

  private setUnicode(code: number, length: number, text: string, budget: CMapBudget): boolean {
    if (budget.remaining <= 0) return false;
    budget.remaining--;
    this.unicode.set(codeKey(code, length), text);
    return true;
  }

  private setCid(code: number, length: number, cid: number, budget: CMapBudget): boolean {
    if (budget.remaining <= 0) return false;
    budget.remaining--;
    this.cids.set(codeKey(code, length), cid);
    return true;
  }

  addCodespace(low: Buffer, high: Buffer): void {
    if (low.length < 1 || low.length > 4 || high.length !== low.length || this.codespace.length >= 64) return;
    this.codespace.push({ length: low.length, low: Uint8Array.from(low), high: Uint8Array.from(high) });
    this.codespace.sort((a, b) => a.length - b.length);
  }

  addBfChars(operands: PdfValue[], budget: CMapBudget): void {
    for (let i = 0; i + 1 < operands.length; i += 2) {
      const src = operands[i];
      if (!(src instanceof PdfString)) continue;
      const code = codeOf(src.bytes);
      const text = destination(operands[i + 1]);
      if (code === undefined || text === undefined) continue;
      if (!this.setUnicode(code, src.bytes.length, text, budget)) return;
    }
  }

  addBfRanges(operands: PdfValue[], budget: CMapBudget): void {
    for (let i = 0; i + 2 < operands.length; i += 3) {
      const lo = operands[i];
      const hi = operands[i + 1];
      const dst = operands[i + 2];
      if (!(lo instanceof PdfString) || !(hi instanceof PdfString)) continue;
      const low = codeOf(lo.bytes);
      const high = codeOf(hi.bytes);
      if (low === undefined || high === undefined || high < low) continue;
      const length = lo.bytes.length;
      const count = Math.min(high - low + 1, MAX_RANGE);
      if (Array.isArray(dst)) {
        const n = Math.min(count, dst.length);
        for (let k = 0; k < n; k++) {
          const text = destination(dst[k]);
          if (text !== undefined && !this.setUnicode(low + k, length, text, budget)) return;
        }
      } else if (dst instanceof PdfString) {
        const units = utf16Units(dst.bytes);
        if (units.length === 0) continue;
        const last = units.length - 1;
        const base = units[last]!;
        for (let k = 0; k < count; k++) {
          units[last] = (base + k) & 0xffff;
          if (!this.setUnicode(low + k, length, unitsToString(units), budget)) return;
        }
      }
    }
  }

  addCidChars(operands: PdfValue[], budget: CMapBudget): void {
    for (let i = 0; i + 1 < operands.length; i += 2) {
      const src = operands[i];
      const cid = operands[i + 1];
      if (!(src instanceof PdfString) || typeof cid !== 'number' || !Number.isInteger(cid) || cid < 0) continue;
      const code = codeOf(src.bytes);
      if (code !== undefined && !this.setCid(code, src.bytes.length, cid, budget)) return;
    }
  }

  addCidRanges(operands: PdfValue[], budget: CMapBudget): void {
    for (let i = 0; i + 2 < operands.length; i += 3) {
      const lo = operands[i];
      const hi = operands[i + 1];
      const cid = operands[i + 2];
      if (!(lo instanceof PdfString) || !(hi instanceof PdfString)) continue;
      if (typeof cid !== 'number' || !Number.isInteger(cid) || cid < 0) continue;
      const low = codeOf(lo.bytes);
      const high = codeOf(hi.bytes);
      if (low === undefined || high === undefined || high < low) continue;
      const count = Math.min(high - low + 1, MAX_RANGE);
      for (let k = 0; k < count; k++) {
        if (!this.setCid(low + k, lo.bytes.length, cid + k, budget)) return;
      }
    }
  }
}

/** Parses a CMap file. Never throws: what cannot be read is left out. */
export function parseCMap(data: Buffer, budget: CMapBudget): CMap {
  const cmap = new CMap();
  const reader = new ContentReader(data, MAX_OPERANDS);
  for (let op = reader.next(); op !== null; op = reader.next()) {
    const operands = reader.operands;
    switch (op) {
      case 'endcodespacerange':
        for (let i = 0; i + 1 < operands.length; i += 2) {
          const low = operands[i];
          const high = operands[i + 1];
          if (low instanceof PdfString && high instanceof PdfString) cmap.addCodespace(low.bytes, high.bytes);
        }
        break;
      case 'endbfchar':
        cmap.addBfChars(operands, budget);
        break;
      case 'endbfrange':
        cmap.addBfRanges(operands, budget);
        break;
      case 'endcidchar':
        cmap.addCidChars(operands, budget);
        break;
      case 'endcidrange':
        cmap.addCidRanges(operands, budget);
        break;
      case 'def': {
        const key = operands[operands.length - 2];
        const value = operands[operands.length - 1];
        if (key instanceof PdfName && key.value === 'WMode' && typeof value === 'number') cmap.vertical = value === 1;
        break;
      }
      case 'usecmap': {
        const used = operands[operands.length - 1];
        if (used instanceof PdfName) cmap.useCMap = used.value;
        break;
      }
      default:
        break;
    }
  }
  return cmap;
}
