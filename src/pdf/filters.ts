import { constants, inflateSync } from 'node:zlib';
import { PdfError } from './errors.js';
import { PdfDict, PdfName, type PdfStream, type PdfValue } from './objects.js';

/** Upper bound for one decoded stream, so a small zip bomb cannot exhaust memory. */
export const MAX_DECODED_STREAM_BYTES = 256 * 1024 * 1024;

function asArray(value: PdfValue | undefined): PdfValue[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function inflate(data: Buffer, limit: number): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: limit, finishFlush: constants.Z_SYNC_FLUSH });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new PdfError('LIMIT_EXCEEDED', `a stream decodes to more than ${limit} bytes`);
    throw new PdfError('MALFORMED', 'a compressed stream is corrupt');
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

function unpredict(data: Buffer, params: PdfDict | undefined): Buffer {
  const predictor = params?.get('Predictor');
  if (typeof predictor !== 'number' || predictor < 10) {
    if (predictor === 2) throw new PdfError('UNSUPPORTED', 'TIFF predictor is not supported');
    return data;
  }
  const colors = Number(params?.get('Colors') ?? 1);
  const bpc = Number(params?.get('BitsPerComponent') ?? 8);
  const columns = Number(params?.get('Columns') ?? 1);
  if (![colors, bpc, columns].every((n) => Number.isInteger(n) && n > 0 && n < 1 << 20)) {
    throw new PdfError('MALFORMED', 'bad predictor parameters');
  }
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLength = Math.ceil((colors * bpc * columns) / 8);
  const rows = Math.floor(data.length / (rowLength + 1));
  const out = Buffer.alloc(rows * rowLength);
  for (let r = 0; r < rows; r++) {
    const filter = data[r * (rowLength + 1)]!;
    const src = r * (rowLength + 1) + 1;
    const dst = r * rowLength;
    const prev = dst - rowLength;
    for (let i = 0; i < rowLength; i++) {
      const x = data[src + i]!;
      const a = i >= bpp ? out[dst + i - bpp]! : 0;
      const b = r > 0 ? out[prev + i]! : 0;
      const c = r > 0 && i >= bpp ? out[prev + i - bpp]! : 0;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: v = x + paeth(a, b, c); break;
        default: throw new PdfError('MALFORMED', `bad PNG predictor row filter ${filter}`);
      }
      out[dst + i] = v & 0xff;
    }
  }
  return out;
}

function asciiHex(data: Buffer): Buffer {
  const text = data.toString('latin1').replace(/\s+/g, '');
  const end = text.indexOf('>');
  let digits = end >= 0 ? text.slice(0, end) : text;
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new PdfError('MALFORMED', 'bad ASCIIHex data');
  if (digits.length % 2) digits += '0';
  return Buffer.from(digits, 'hex');
}

/** Decodes a stream's data through its filters (FlateDecode with predictors, ASCIIHexDecode). */
export function decodeStream(stream: PdfStream, limit = MAX_DECODED_STREAM_BYTES): Buffer {
  const filters = asArray(stream.dict.get('Filter'));
  const params = asArray(stream.dict.get('DecodeParms'));
  let data = stream.raw;
  filters.forEach((filter, i) => {
    if (!(filter instanceof PdfName)) throw new PdfError('MALFORMED', 'stream filter is not a name');
    const param = params[i];
    const paramDict = param instanceof PdfDict ? param : undefined;
    switch (filter.value) {
      case 'FlateDecode':
      case 'Fl':
        data = unpredict(inflate(data, limit), paramDict);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        data = asciiHex(data);
        break;
      default:
        throw new PdfError('UNSUPPORTED', `stream filter ${filter.value} is not supported`);
    }
  });
  return data;
}
