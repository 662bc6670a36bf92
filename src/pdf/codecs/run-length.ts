import { PdfError } from '../errors.js';
import { BoundedOutput } from './bounded-output.js';

/**
 * RunLengthDecode (ISO 32000-1 7.4.5): a length byte L of 0..127 copies the next L+1 bytes,
 * 129..255 repeats the next byte 257-L times, 128 ends the data (a missing end marker is
 * accepted). A run cut short by the end of the data is MALFORMED.
 */
export function runLengthDecode(data: Buffer, limit: number): Buffer {
  const out = new BoundedOutput(limit, data.length * 2);
  let pos = 0;
  while (pos < data.length) {
    const n = data[pos++]!;
    if (n === 128) break;
    if (n < 128) {
      if (pos + n + 1 > data.length) throw new PdfError('MALFORMED', 'RunLength literal run is truncated');
      out.pushBytes(data.subarray(pos, pos + n + 1));
      pos += n + 1;
    } else {
      if (pos >= data.length) throw new PdfError('MALFORMED', 'RunLength repeat run is truncated');
      out.fill(data[pos++]!, 257 - n);
    }
  }
  return out.result();
}
