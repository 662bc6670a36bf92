import { inflateSync } from 'node:zlib';

/**
 * A PNG decoder for what a PDF image XObject needs: 8-bit RGB samples and, when the image has
 * any transparency, an 8-bit soft mask. Written for seal images uploaded by departments, so it
 * checks everything before it trusts it: the signature, every chunk's length and CRC, the
 * header, the image size (before inflating anything) and the inflated size.
 *
 * Supported: colour types 0 (grey), 2 (RGB), 3 (palette), 4 (grey + alpha), 6 (RGBA) at bit
 * depth 8; 16-bit samples are cut to 8 bits (the high byte, as libpng's strip_16 and browsers
 * do); grey and palette images at 1, 2 and 4 bits are expanded. Transparency from tRNS (palette
 * alpha, or a grey/RGB colour key) becomes the soft mask. Interlaced (Adam7) images are
 * rejected. Gamma and colour-profile chunks are ignored: the samples are taken as stored.
 */

export class PngError extends Error {
  override name = 'PngError';
}

/** The largest image accepted, in pixels (width × height). */
export const MAX_PNG_PIXELS = 25_000_000;

export interface DecodedPng {
  width: number;
  height: number;
  /** width × height × 3 bytes, row by row from the top. */
  rgb: Buffer;
  /** width × height bytes (255 opaque), or null when every pixel is opaque. */
  alpha: Buffer | null;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as PNG and ZIP use it) of data[start, end). */
export function crc32(data: Buffer, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const BIT_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

function readHeader(data: Buffer): Header {
  if (data.length !== 13) throw new PngError(`invalid PNG: the IHDR chunk has ${data.length} bytes instead of 13`);
  const width = data.readUInt32BE(0);
  const height = data.readUInt32BE(4);
  const bitDepth = data[8]!;
  const colorType = data[9]!;
  const [compression, filter, interlace] = [data[10]!, data[11]!, data[12]!];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new PngError(`invalid PNG: image size ${width}x${height}`);
  }
  if (!(colorType in CHANNELS)) throw new PngError(`invalid PNG: unknown colour type ${colorType}`);
  if (!BIT_DEPTHS[colorType]!.includes(bitDepth)) {
    throw new PngError(`invalid PNG: bit depth ${bitDepth} is not allowed with colour type ${colorType}`);
  }
  if (compression !== 0) throw new PngError(`unsupported PNG: compression method ${compression}`);
  if (filter !== 0) throw new PngError(`unsupported PNG: filter method ${filter}`);
  if (interlace === 1) throw new PngError('unsupported PNG: interlaced (Adam7) images are not supported; save the image without interlacing');
  if (interlace !== 0) throw new PngError(`invalid PNG: unknown interlace method ${interlace}`);
  if (width * height > MAX_PNG_PIXELS) {
    throw new PngError(`the PNG is too large: ${width}x${height} pixels; at most ${MAX_PNG_PIXELS / 1e6} megapixels are accepted`);
  }
  return { width, height, bitDepth, colorType };
}

/** Reverses the per-row filters in place; returns the offset of each row's first sample byte. */
function unfilter(raw: Buffer, height: number, rowBytes: number, bpp: number): void {
  const stride = rowBytes + 1;
  for (let y = 0; y < height; y++) {
    const row = y * stride + 1;
    const prev = row - stride; // only read when y > 0
    const type = raw[row - 1]!;
    switch (type) {
      case 0:
        break;
      case 1: // Sub
        for (let i = bpp; i < rowBytes; i++) raw[row + i] = (raw[row + i]! + raw[row + i - bpp]!) & 0xff;
        break;
      case 2: // Up
        if (y > 0) for (let i = 0; i < rowBytes; i++) raw[row + i] = (raw[row + i]! + raw[prev + i]!) & 0xff;
        break;
      case 3: // Average
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? raw[row + i - bpp]! : 0;
          const up = y > 0 ? raw[prev + i]! : 0;
          raw[row + i] = (raw[row + i]! + ((left + up) >> 1)) & 0xff;
        }
        break;
      case 4: // Paeth
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? raw[row + i - bpp]! : 0;
          const b = y > 0 ? raw[prev + i]! : 0;
          const c = i >= bpp && y > 0 ? raw[prev + i - bpp]! : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          raw[row + i] = (raw[row + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
        }
        break;
      default:
        throw new PngError(`damaged PNG: unknown filter type ${type} in row ${y}`);
    }
  }
}

/** A 16-bit sample to 8 bits: the high byte, as libpng's strip_16 and browsers do. */
function to8(v: number): number {
  return v >> 8;
}

interface Extras {
  palette: Buffer | null;
  trns: Buffer | null;
}

/** Samples (after unfiltering) to RGB and alpha. */
function convert(raw: Buffer, h: Header, rowBytes: number, { palette, trns }: Extras): DecodedPng {
  const { width, height, bitDepth, colorType } = h;
  const channels = CHANNELS[colorType]!;
  const pixels = width * height;
  const rgb = Buffer.alloc(pixels * 3);
  const alpha = Buffer.alloc(pixels, 255);
  let transparent = false;
  const stride = rowBytes + 1;

  // the colour key of grey/RGB images, compared against the samples as stored
  const key = trns && (colorType === 0 || colorType === 2) ? Array.from({ length: trns.length / 2 }, (_, i) => trns.readUInt16BE(2 * i)) : null;

  if (bitDepth === 8 && (colorType === 6 || colorType === 2)) {
    for (let y = 0, p = 0; y < height; y++) {
      let s = y * stride + 1;
      for (let x = 0; x < width; x++, p++, s += channels) {
        const r = raw[s]!;
        const g = raw[s + 1]!;
        const b = raw[s + 2]!;
        rgb[3 * p] = r;
        rgb[3 * p + 1] = g;
        rgb[3 * p + 2] = b;
        if (colorType === 6) {
          const a = raw[s + 3]!;
          alpha[p] = a;
          if (a !== 255) transparent = true;
        } else if (key && r === key[0] && g === key[1] && b === key[2]) {
          alpha[p] = 0;
          transparent = true;
        }
      }
    }
    return { width, height, rgb, alpha: transparent ? alpha : null };
  }

  const max = (1 << bitDepth) - 1;
  const sample = (row: number, index: number): number => {
    switch (bitDepth) {
      case 8:
        return raw[row + index]!;
      case 16:
        return raw.readUInt16BE(row + 2 * index);
      default: {
        const bit = index * bitDepth;
        return (raw[row + (bit >> 3)]! >> (8 - bitDepth - (bit & 7))) & max;
      }
    }
  };
  const scale = (v: number): number => (bitDepth === 16 ? to8(v) : bitDepth === 8 ? v : Math.round((v * 255) / max));
  const entries = palette ? palette.length / 3 : 0;

  for (let y = 0, p = 0; y < height; y++) {
    const row = y * stride + 1;
    for (let x = 0; x < width; x++, p++) {
      const i = x * channels;
      let a = 255;
      switch (colorType) {
        case 0: {
          const v = sample(row, i);
          rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = scale(v);
          if (key && v === key[0]) a = 0;
          break;
        }
        case 2: {
          const r = sample(row, i);
          const g = sample(row, i + 1);
          const b = sample(row, i + 2);
          rgb[3 * p] = scale(r);
          rgb[3 * p + 1] = scale(g);
          rgb[3 * p + 2] = scale(b);
          if (key && r === key[0] && g === key[1] && b === key[2]) a = 0;
          break;
        }
        case 3: {
          const index = sample(row, i);
          if (index >= entries) throw new PngError(`damaged PNG: palette index ${index} at (${x}, ${y}) but the palette has ${entries} entries`);
          rgb[3 * p] = palette![3 * index]!;
          rgb[3 * p + 1] = palette![3 * index + 1]!;
          rgb[3 * p + 2] = palette![3 * index + 2]!;
          if (trns && index < trns.length) a = trns[index]!;
          break;
        }
        case 4:
          rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = scale(sample(row, i));
          a = scale(sample(row, i + 1));
          break;
        case 6:
          rgb[3 * p] = scale(sample(row, i));
          rgb[3 * p + 1] = scale(sample(row, i + 1));
          rgb[3 * p + 2] = scale(sample(row, i + 2));
          a = scale(sample(row, i + 3));
          break;
      }
      if (a !== 255) {
        alpha[p] = a;
        transparent = true;
      }
    }
  }
  return { width, height, rgb, alpha: transparent ? alpha : null };
}

/** Decodes a PNG into 8-bit RGB samples and an optional 8-bit soft mask; throws PngError. */
export function decodePng(png: Buffer): DecodedPng {
  if (png.length < SIGNATURE.length || !png.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new PngError('not a PNG image (the PNG signature is missing)');
  }
  let header: Header | null = null;
  let palette: Buffer | null = null;
  let trns: Buffer | null = null;
  const idat: Buffer[] = [];
  let pos = SIGNATURE.length;
  for (;;) {
    if (pos + 8 > png.length) throw new PngError(`truncated PNG: the file ends at byte ${png.length}, before the IEND chunk`);
    const length = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new PngError(`damaged PNG: invalid chunk type at byte ${pos + 4}`);
    if (length > 0x7fffffff) throw new PngError(`damaged PNG: invalid length of the ${type} chunk`);
    const end = pos + 8 + length;
    if (end + 4 > png.length) throw new PngError(`truncated PNG: the ${type} chunk at byte ${pos} runs past the end of the file`);
    if (crc32(png, pos + 4, end) !== png.readUInt32BE(end)) throw new PngError(`damaged PNG: bad CRC in the ${type} chunk at byte ${pos}`);
    const data = png.subarray(pos + 8, end);
    pos = end + 4;

    if (header === null) {
      if (type !== 'IHDR') throw new PngError('invalid PNG: the first chunk is not IHDR');
      header = readHeader(data); // rejects oversized images before any image data is read
      continue;
    }
    if (type === 'IEND') break;
    switch (type) {
      case 'IHDR':
        throw new PngError('invalid PNG: a second IHDR chunk');
      case 'PLTE':
        if (idat.length > 0 || palette) throw new PngError('invalid PNG: PLTE after the image data or repeated');
        if (data.length === 0 || data.length % 3 !== 0 || data.length > 768) throw new PngError(`invalid PNG: a palette of ${data.length} bytes`);
        if (header.colorType === 0 || header.colorType === 4) throw new PngError('invalid PNG: a palette in a greyscale image');
        palette = data;
        break;
      case 'tRNS':
        if (idat.length > 0) throw new PngError('invalid PNG: tRNS after the image data');
        if (header.colorType === 3) {
          if (!palette) throw new PngError('invalid PNG: tRNS before PLTE');
          if (data.length > palette.length / 3) throw new PngError('invalid PNG: tRNS has more entries than the palette');
        } else if ((header.colorType === 0 && data.length !== 2) || (header.colorType === 2 && data.length !== 6)) {
          throw new PngError(`invalid PNG: a tRNS chunk of ${data.length} bytes for colour type ${header.colorType}`);
        }
        // images with an alpha channel must not have tRNS; like libpng, ignore it there
        if (header.colorType !== 4 && header.colorType !== 6) trns = data;
        break;
      case 'IDAT':
        idat.push(data);
        break;
      default:
        // bit 5 of the first byte clear (upper case): critical, the image cannot be shown without it
        if ((type.charCodeAt(0) & 0x20) === 0) throw new PngError(`unsupported PNG: unknown critical chunk ${type}`);
    }
  }
  if (header === null) throw new PngError('truncated PNG: no IHDR chunk');
  if (idat.length === 0) throw new PngError('invalid PNG: no image data (IDAT)');
  if (header.colorType === 3 && !palette) throw new PngError('invalid PNG: a palette image without PLTE');

  const channels = CHANNELS[header.colorType]!;
  const rowBytes = Math.ceil((header.width * channels * header.bitDepth) / 8);
  const expected = header.height * (rowBytes + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { maxOutputLength: expected });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PngError(`damaged PNG: the image data inflates to more than the ${expected} bytes a ${header.width}x${header.height} image needs`);
    }
    if (code === 'Z_BUF_ERROR') throw new PngError('truncated PNG: the compressed image data ends early');
    throw new PngError(`damaged PNG: the image data cannot be inflated (${(err as Error).message})`);
  }
  if (raw.length < expected) {
    throw new PngError(`truncated PNG: the image data has ${raw.length} of the ${expected} bytes a ${header.width}x${header.height} image needs`);
  }
  const bpp = Math.max(1, (channels * header.bitDepth) >> 3);
  unfilter(raw, header.height, rowBytes, bpp);
  return convert(raw, header, rowBytes, { palette, trns });
}
