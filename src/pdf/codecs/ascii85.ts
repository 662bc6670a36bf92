import { PdfError } from '../errors.js';
import { BoundedOutput } from './bounded-output.js';

const PDF_WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);

/**
 * ASCII85Decode (ISO 32000-1 7.4.3): groups of five characters `!`..`u` make four bytes, `z`
 * stands for four zero bytes, whitespace is ignored and `~>` ends the data (a missing end marker
 * is accepted). A final group of n (2..4) characters makes n-1 bytes. Anything else — other
 * characters, `z` inside a group, a lone final character, a group above 2^32-1 — is MALFORMED.
 */
export function ascii85Decode(data: Buffer, limit: number): Buffer {
  const out = new BoundedOutput(limit, Math.ceil((data.length * 4) / 5));
  const group = [0, 0, 0, 0, 0];
  let count = 0;
  let pos = 0;
  let ended = false;
  while (pos < data.length) {
    const c = data[pos++]!;
    if (PDF_WHITESPACE.has(c)) continue;
    if (c === 0x7e /* ~ */) {
      while (pos < data.length && PDF_WHITESPACE.has(data[pos]!)) pos++;
      if (data[pos] !== 0x3e /* > */) throw new PdfError('MALFORMED', 'ASCII85 "~" is not followed by ">"');
      ended = true;
      break;
    }
    if (c === 0x7a /* z */) {
      if (count !== 0) throw new PdfError('MALFORMED', 'ASCII85 "z" inside a group');
      out.fill(0, 4);
      continue;
    }
    if (c < 0x21 || c > 0x75) throw new PdfError('MALFORMED', `bad ASCII85 character 0x${c.toString(16)}`);
    group[count++] = c - 0x21;
    if (count === 5) {
      writeGroup(out, group, 4);
      count = 0;
    }
  }
  if (count === 1) throw new PdfError('MALFORMED', `ASCII85 data ends with a lone character${ended ? '' : ' (truncated?)'}`);
  if (count > 1) {
    for (let i = count; i < 5; i++) group[i] = 84; // pad with 'u'
    writeGroup(out, group, count - 1);
  }
  return out.result();
}

function writeGroup(out: BoundedOutput, group: number[], bytes: number): void {
  let value = 0;
  for (const digit of group) value = value * 85 + digit;
  if (value > 0xffffffff) throw new PdfError('MALFORMED', 'ASCII85 group exceeds 2^32-1');
  out.reserve(bytes);
  for (let i = 0; i < bytes; i++) out.push((value >>> (24 - 8 * i)) & 0xff);
}
