import { chargeDecoded, decodedBytesLeft } from './limits/work-budget.js';
import { constants, inflateSync } from 'node:zlib';
import { ascii85Decode } from './codecs/ascii85.js';
import { lzwDecode } from './codecs/lzw.js';
import { runLengthDecode } from './codecs/run-length.js';
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

function asciiHex(data: Buffer, limit: number): Buffer {
  const text = data.toString('latin1').replace(/[\0\t\n\f\r ]+/g, '');
  const end = text.indexOf('>');
  let digits = end >= 0 ? text.slice(0, end) : text;
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new PdfError('MALFORMED', 'bad ASCIIHex data');
  if (digits.length % 2) digits += '0';
  if (digits.length / 2 > limit) throw new PdfError('LIMIT_EXCEEDED', `a stream decodes to more than ${limit} bytes`);
  return Buffer.from(digits, 'hex');
}

/** More filters than any producer writes; a longer chain is refused before any work. */
const MAX_FILTERS = 16;

function earlyChange(params: PdfDict | undefined): number {
  const value = params?.get('EarlyChange') ?? 1;
  if (value !== 0 && value !== 1) throw new PdfError('MALFORMED', 'bad LZW /EarlyChange');
  return value;
}

/**
 * Decodes a stream's data through its filters: FlateDecode and LZWDecode (both with PNG
 * predictors), ASCII85Decode, ASCIIHexDecode and RunLengthDecode, in the order of a /Filter
 * array, each with its own entry of a /DecodeParms array. Every step is bounded by `limit`
 * (LIMIT_EXCEEDED); corrupt data is MALFORMED and an unknown filter UNSUPPORTED.
 *
 * A leading /Crypt filter passes the bytes through: the security handler
 * (security-handler.ts) applies it when it decrypts the stream, before this is called.
 */
/** Decoded data per parsed stream object: a stream referenced many times is decoded once. */
const decoded = new WeakMap<PdfStream, Buffer>();

export function decodeStream(stream: PdfStream, limit = MAX_DECODED_STREAM_BYTES): Buffer {
  const known = decoded.get(stream);
  if (known) {
    if (known.length > limit) throw new PdfError('LIMIT_EXCEEDED', `a stream decodes to more than ${limit} bytes`);
    return known;
  }
  // A stream may not decode to more than the request has left; what it decodes to is charged.
  const bound = Math.min(limit, Math.max(0, decodedBytesLeft()));
  let data: Buffer;
  try {
    data = decodeUncached(stream, bound);
  } catch (err) {
    if (bound < limit && err instanceof PdfError && err.code === 'LIMIT_EXCEEDED') chargeDecoded(bound + 1); // names the request's budget
    throw err;
  }
  chargeDecoded(data.length);
  decoded.set(stream, data);
  return data;
}

function decodeUncached(stream: PdfStream, limit: number): Buffer {
  const filters = asArray(stream.dict.get('Filter'));
  const params = asArray(stream.dict.get('DecodeParms'));
  if (filters.length > MAX_FILTERS) throw new PdfError('LIMIT_EXCEEDED', `a stream has more than ${MAX_FILTERS} filters`);
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
      case 'LZWDecode':
      case 'LZW':
        data = unpredict(lzwDecode(data, earlyChange(paramDict), limit), paramDict);
        break;
      case 'ASCII85Decode':
      case 'A85':
        data = ascii85Decode(data, limit);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        data = asciiHex(data, limit);
        break;
      case 'RunLengthDecode':
      case 'RL':
        data = runLengthDecode(data, limit);
        break;
      case 'Crypt':
        if (i !== 0) throw new PdfError('MALFORMED', 'the Crypt filter is not the first filter');
        break;
      default:
        throw new PdfError('UNSUPPORTED', `stream filter ${filter.value} is not supported`);
    }
  });
  return data;
}
