import { PdfError } from '../errors.js';
import { BoundedOutput } from './bounded-output.js';

const CLEAR_TABLE = 256;
const END_OF_DATA = 257;
const FIRST_FREE = 258;
const MAX_CODES = 4096; // 12-bit codes
const MAX_WIDTH = 12;

/**
 * LZWDecode (ISO 32000-1 7.4.4): variable-width codes of 9 to 12 bits, most significant bit
 * first; 256 clears the table, 257 ends the data. With EarlyChange 1 (the default) the code width
 * grows one code early. Data that ends without an end-of-data code is accepted (as readers do);
 * a code that is not yet in the table is MALFORMED. Work and output are linear in the output,
 * which is bounded by `limit`.
 */
export function lzwDecode(data: Buffer, earlyChange: number, limit: number): Buffer {
  if (earlyChange !== 0 && earlyChange !== 1) throw new PdfError('MALFORMED', `bad LZW /EarlyChange ${earlyChange}`);
  // The table as a tree: each entry is its prefix entry plus one byte.
  const prefix = new Int16Array(MAX_CODES);
  const lastByte = new Uint8Array(MAX_CODES);
  const firstByte = new Uint8Array(MAX_CODES);
  const length = new Uint16Array(MAX_CODES);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    lastByte[i] = i;
    firstByte[i] = i;
    length[i] = 1;
  }
  const out = new BoundedOutput(limit, data.length * 3);
  let next = FIRST_FREE;
  let width = 9;
  let previous = -1;
  let bits = 0;
  let bitCount = 0;
  let pos = 0;
  for (;;) {
    while (bitCount < width && pos < data.length) {
      // fewer than 12 pending bits before the shift, so 16 bits of mask keep all of them
      bits = ((bits & 0xffff) << 8) | data[pos++]!;
      bitCount += 8;
    }
    if (bitCount < width) break; // out of data (trailing padding bits are ignored)
    bitCount -= width;
    const code = (bits >>> bitCount) & ((1 << width) - 1);
    if (code === CLEAR_TABLE) {
      next = FIRST_FREE;
      width = 9;
      previous = -1;
      continue;
    }
    if (code === END_OF_DATA) break;
    if (previous < 0) {
      if (code > 255) throw new PdfError('MALFORMED', `LZW code ${code} before any table entry`);
    } else {
      if (code > next) throw new PdfError('MALFORMED', `LZW code ${code} is not in the table`);
      if (next < MAX_CODES) {
        // the new entry is the previous string plus the first byte of the current one
        // (for code === next, the current string starts with the previous string's first byte)
        prefix[next] = previous;
        lastByte[next] = code === next ? firstByte[previous]! : firstByte[code]!;
        firstByte[next] = firstByte[previous]!;
        length[next] = length[previous]! + 1;
        next++;
      }
    }
    const len = length[code]!;
    out.reserve(len);
    let at = out.length + len - 1;
    for (let c = code; c >= 0; c = prefix[c]!) out.setAt(at--, lastByte[c]!);
    out.advance(len);
    previous = code;
    if (width < MAX_WIDTH && next + earlyChange >= 1 << width) width++;
  }
  return out.result();
}
