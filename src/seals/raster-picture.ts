/**
 * Raster seal pictures decoded by Skia only once their headers show a bounded size: a national
 * seal's own picture (ses-picture.ts) and the images inside an OFD picture (ofd/ofd-render.ts).
 */
import { Image } from '@napi-rs/canvas';
import { SealInputError } from './errors.js';
import { decodePng, MAX_PNG_PIXELS, PngError } from './png.js';

/** Width and height from a raster header, or null when the header is not one of its format. */
export function rasterSize(format: string, data: Buffer): { width: number; height: number } | null {
  if (format === 'GIF') return data.length >= 10 && data.subarray(0, 3).toString('latin1') === 'GIF' ? { width: data.readUInt16LE(6), height: data.readUInt16LE(8) } : null;
  if (format === 'BMP') return data.length >= 26 && data.subarray(0, 2).toString('latin1') === 'BM' ? { width: Math.abs(data.readInt32LE(18)), height: Math.abs(data.readInt32LE(22)) } : null;
  // JPEG: the frame header (SOF0..SOF15 but DHT, JPG and DAC) after the markers before it.
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return null;
  for (let at = 2; at + 9 < data.length; ) {
    if (data[at] !== 0xff) return null;
    const marker = data[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = data.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return { height: data.readUInt16BE(at + 5), width: data.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return null;
}

/** The format a raster picture's first bytes show: PNG, JPG, GIF or BMP; null for anything else. */
export function sniffRaster(data: Buffer): 'PNG' | 'JPG' | 'GIF' | 'BMP' | null {
  if (data.length >= 8 && data.readUInt32BE(0) === 0x89504e47) return 'PNG';
  if (data.length >= 2 && data[0] === 0xff && data[1] === 0xd8) return 'JPG';
  if (data.subarray(0, 3).toString('latin1') === 'GIF') return 'GIF';
  if (data.subarray(0, 2).toString('latin1') === 'BM') return 'BMP';
  return null;
}

/**
 * The size of a PNG (decoded in full by the service's bounded decoder; `alpha` when it has
 * transparency) or of a JPG, GIF or BMP header, checked.
 */
export function checkedRasterSize(format: 'PNG' | 'JPG' | 'GIF' | 'BMP', data: Buffer): { width: number; height: number; alpha: boolean } {
  if (format === 'PNG') {
    try {
      const png = decodePng(data);
      return { width: png.width, height: png.height, alpha: png.alpha !== null };
    } catch (err) {
      if (err instanceof PngError) throw new SealInputError(`the seal picture: ${err.message}`, 'sesSeal');
      throw err;
    }
  }
  const size = rasterSize(format, data);
  if (!size || size.width === 0 || size.height === 0) throw new SealInputError(`the seal picture is not a readable ${format} image`, 'sesSeal');
  if (size.width * size.height > MAX_PNG_PIXELS) throw new SealInputError(`the seal picture has ${size.width}x${size.height} pixels, more than ${MAX_PNG_PIXELS}`, 'sesSeal');
  return { ...size, alpha: false };
}

export function decodedImage(source: Uint8Array | string, width?: number, height?: number): Image {
  const image = width && height ? new Image(width, height) : new Image();
  image.src = source;
  if (!image.complete || image.naturalWidth === 0) throw new SealInputError('the seal picture cannot be decoded', 'sesSeal');
  return image;
}
