/**
 * A national e-seal's own picture (SES_ESPictrueInfo) as the PNG the page draws. PNG is taken as
 * it is (checked by the service's PNG decoder); JPG, GIF and BMP are decoded by Skia after their
 * headers show a bounded size, and a white background becomes transparent so the seal does not
 * cover the text under it; SVG is drawn at the seal's printed size. OFD vector pictures are not
 * supported and are refused with a reason.
 */
import { createCanvas, Image } from '@napi-rs/canvas';
import type { SesPicture } from '../pki/ses/ses-structures.js';
import { SealInputError } from './errors.js';
import { SEAL_PIXELS_PER_MM } from './image.js';
import { decodePng, MAX_PNG_PIXELS, PngError } from './png.js';

const MAX_SVG_BYTES = 1024 * 1024;
const MAX_SIDE_MM = 100;

/** Width and height from a raster header, or null when the header is not one of its format. */
function rasterSize(format: string, data: Buffer): { width: number; height: number } | null {
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

function decoded(source: Uint8Array | string, width?: number, height?: number): Image {
  const image = width && height ? new Image(width, height) : new Image();
  image.src = source;
  if (!image.complete || image.naturalWidth === 0) throw new SealInputError('the seal picture cannot be decoded', 'sesSeal');
  return image;
}

/** Draws an image onto a transparent canvas; with `clearWhite`, near-white pixels become transparent. */
function toPng(image: Image, width: number, height: number, clearWhite: boolean): Buffer {
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0, width, height);
  if (clearWhite) {
    const pixels = context.getImageData(0, 0, width, height);
    const rgba = pixels.data;
    for (let i = 0; i < rgba.length; i += 4) {
      if (rgba[i]! >= 235 && rgba[i + 1]! >= 235 && rgba[i + 2]! >= 235) rgba[i + 3] = 0;
    }
    context.putImageData(pixels, 0, 0);
  }
  return canvas.toBuffer('image/png');
}

export function sesPicturePng(picture: SesPicture): Buffer {
  const { format, data } = picture;
  if (picture.widthMm <= 0 || picture.heightMm <= 0 || picture.widthMm > MAX_SIDE_MM || picture.heightMm > MAX_SIDE_MM) {
    throw new SealInputError(`the seal picture's printed size ${picture.widthMm}x${picture.heightMm} mm is not between 1 and ${MAX_SIDE_MM} mm`, 'sesSeal');
  }
  if (format === 'PNG') {
    try {
      const png = decodePng(data);
      if (png.alpha) return data;
      return toPng(decoded(data), png.width, png.height, true);
    } catch (err) {
      if (err instanceof PngError) throw new SealInputError(`the seal picture: ${err.message}`, 'sesSeal');
      throw err;
    }
  }
  if (format === 'JPG' || format === 'JPEG' || format === 'GIF' || format === 'BMP') {
    const size = rasterSize(format === 'JPEG' ? 'JPG' : format, data);
    if (!size || size.width === 0 || size.height === 0) throw new SealInputError(`the seal picture is not a readable ${format} image`, 'sesSeal');
    if (size.width * size.height > MAX_PNG_PIXELS) throw new SealInputError(`the seal picture has ${size.width}x${size.height} pixels, more than ${MAX_PNG_PIXELS}`, 'sesSeal');
    return toPng(decoded(data), size.width, size.height, format !== 'GIF');
  }
  if (format === 'SVG') {
    if (data.length > MAX_SVG_BYTES) throw new SealInputError(`the seal's SVG picture is larger than ${MAX_SVG_BYTES} bytes`, 'sesSeal');
    const width = Math.round(picture.widthMm * SEAL_PIXELS_PER_MM);
    const height = Math.round(picture.heightMm * SEAL_PIXELS_PER_MM);
    return toPng(decoded(data, width, height), width, height, false);
  }
  throw new SealInputError(`seal pictures of type ${format} are not supported (PNG, JPG, GIF, BMP and SVG are)`, 'sesSeal');
}
