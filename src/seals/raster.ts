import { createCanvas, loadImage } from '@napi-rs/canvas';
import type { RasterImage } from '../pdf/image.js';

export class ImageError extends Error {
  override name = 'ImageError';
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_PIXELS = 25_000_000;

/** Width and height from the IHDR chunk, read before anything is decoded. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 33 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new ImageError('not a PNG image');
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new ImageError('the PNG has no IHDR header');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Decodes a PNG into the 8-bit RGB samples and soft mask a PDF image needs. The size is
 * checked before decoding, so a small file cannot claim a gigantic image.
 */
export async function decodePng(png: Buffer): Promise<RasterImage> {
  const { width, height } = pngSize(png);
  if (width === 0 || height === 0 || width * height > MAX_PIXELS) throw new ImageError(`the PNG is ${width}x${height}; at most ${MAX_PIXELS} pixels are accepted`);
  let image: Awaited<ReturnType<typeof loadImage>>;
  try {
    image = await loadImage(png);
  } catch {
    throw new ImageError('the PNG cannot be decoded (damaged or truncated)');
  }
  if (image.width !== width || image.height !== height) throw new ImageError('the PNG cannot be decoded (damaged or truncated)');
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = Buffer.alloc(width * height * 3);
  const alpha = Buffer.alloc(width * height);
  let transparent = false;
  for (let i = 0, p = 0; p < width * height; p++, i += 4) {
    rgb[p * 3] = rgba[i]!;
    rgb[p * 3 + 1] = rgba[i + 1]!;
    rgb[p * 3 + 2] = rgba[i + 2]!;
    alpha[p] = rgba[i + 3]!;
    if (rgba[i + 3]! < 255) transparent = true;
  }
  return { width, height, rgb, alpha: transparent ? alpha : null };
}
