/**
 * A national e-seal's own picture (SES_ESPictrueInfo) as the PNG the page draws. PNG is taken as
 * it is (checked by the service's PNG decoder); JPG, GIF and BMP are decoded by Skia after their
 * headers show a bounded size (raster-picture.ts), and a white background becomes transparent so
 * the seal does not cover the text under it; SVG is drawn at the seal's printed size. OFD (an
 * OFD document, GB/T 33190, whose first page is the seal's vector drawing) is read and drawn by
 * ofd/ at the printed size, with bounded work; white in it is paper, so it becomes transparent
 * too, and a page that leaves no ink is refused.
 */
import { createCanvas, type Canvas, type Image } from '@napi-rs/canvas';
import type { SesPicture } from '../pki/ses/ses-structures.js';
import { SealInputError } from './errors.js';
import { SEAL_PIXELS_PER_MM } from './image.js';
import { OfdError } from './ofd/ofd-error.js';
import { renderOfdPicture } from './ofd/ofd-render.js';
import { checkedRasterSize, decodedImage } from './raster-picture.js';

const MAX_SVG_BYTES = 1024 * 1024;
const MAX_SIDE_MM = 100;

/** Makes near-white pixels transparent; answers whether any visible pixel is left. */
function clearWhite(canvas: Canvas): boolean {
  const context = canvas.getContext('2d');
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const rgba = pixels.data;
  let inked = false;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i]! >= 235 && rgba[i + 1]! >= 235 && rgba[i + 2]! >= 235) rgba[i + 3] = 0;
    else if (rgba[i + 3]! > 0) inked = true;
  }
  context.putImageData(pixels, 0, 0);
  return inked;
}

/** Draws an image onto a transparent canvas; with `clear`, near-white pixels become transparent. */
function toPng(image: Image, width: number, height: number, clear: boolean): Buffer {
  const canvas = createCanvas(width, height);
  canvas.getContext('2d').drawImage(image, 0, 0, width, height);
  if (clear) clearWhite(canvas);
  return canvas.toBuffer('image/png');
}

export function sesPicturePng(picture: SesPicture): Buffer {
  const { format, data } = picture;
  if (picture.widthMm <= 0 || picture.heightMm <= 0 || picture.widthMm > MAX_SIDE_MM || picture.heightMm > MAX_SIDE_MM) {
    throw new SealInputError(`the seal picture's printed size ${picture.widthMm}x${picture.heightMm} mm is not between 1 and ${MAX_SIDE_MM} mm`, 'sesSeal');
  }
  const width = Math.round(picture.widthMm * SEAL_PIXELS_PER_MM);
  const height = Math.round(picture.heightMm * SEAL_PIXELS_PER_MM);
  if (format === 'PNG') {
    const png = checkedRasterSize('PNG', data);
    return png.alpha ? data : toPng(decodedImage(data), png.width, png.height, true);
  }
  if (format === 'JPG' || format === 'JPEG' || format === 'GIF' || format === 'BMP') {
    const size = checkedRasterSize(format === 'JPEG' ? 'JPG' : format, data);
    return toPng(decodedImage(data), size.width, size.height, format !== 'GIF');
  }
  if (format === 'SVG') {
    if (data.length > MAX_SVG_BYTES) throw new SealInputError(`the seal's SVG picture is larger than ${MAX_SVG_BYTES} bytes`, 'sesSeal');
    return toPng(decodedImage(data, width, height), width, height, false);
  }
  if (format === 'OFD') {
    try {
      const canvas = renderOfdPicture(data, width, height);
      if (!clearWhite(canvas)) throw new OfdError('its first page draws nothing visible within its PhysicalBox');
      return canvas.toBuffer('image/png');
    } catch (err) {
      if (err instanceof OfdError) throw new SealInputError(`the seal's OFD picture: ${err.message}`, 'sesSeal');
      throw err;
    }
  }
  throw new SealInputError(`seal pictures of type ${format} are not supported (PNG, JPG, GIF, BMP, SVG and OFD are)`, 'sesSeal');
}
