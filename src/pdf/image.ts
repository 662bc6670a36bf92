import { deflateSync } from 'node:zlib';
import { PdfDict, PdfName, PdfStream, type PdfRef } from './objects.js';
import type { IncrementalUpdate } from './incremental.js';

/** Raw 8-bit samples of an image, as decoded from a PNG. */
export interface RasterImage {
  width: number;
  height: number;
  rgb: Buffer;
  alpha: Buffer | null;
}

/** An image compressed once and reused for every document it is stamped on. */
export interface PreparedImage {
  readonly width: number;
  readonly height: number;
  readonly rgbDeflated: Buffer;
  readonly alphaDeflated: Buffer | null;
}

/** The most common colour among the pixels that show at all, as 0xRRGGBB. */
function mainColour(rgb: Buffer, alpha: Buffer): number | undefined {
  const counts = new Map<number, number>();
  let best: number | undefined;
  let bestCount = 0;
  for (let p = 0; p < alpha.length; p++) {
    if (alpha[p] === 0) continue;
    const colour = rgb.readUIntBE(p * 3, 3);
    const count = (counts.get(colour) ?? 0) + 1;
    counts.set(colour, count);
    if (count > bestCount) [best, bestCount] = [colour, count];
  }
  return best;
}

/**
 * The samples with every pixel whose colour cannot be seen apart from the image's main colour
 * set to that colour: a pixel fully transparent, or one whose colour differs from it by no more
 * than its alpha can show (at most one level in every channel once multiplied by alpha/255).
 * A seal drawn in one ink comes out of the renderer with its edge pixels' colours scattered by
 * the rounding of un-premultiplied alpha; set to the ink, the colour samples deflate to under a
 * kilobyte instead of about 19 KB, and every sealed document is that much smaller, while what
 * any viewer composites stays within a level of the original. Colours that show stay as they are.
 */
function settleInvisibleColour(rgb: Buffer, alpha: Buffer): Buffer {
  const main = mainColour(rgb, alpha);
  if (main === undefined) return rgb;
  const ink = [(main >> 16) & 0xff, (main >> 8) & 0xff, main & 0xff] as const;
  const out = Buffer.from(rgb);
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p]!;
    const at = p * 3;
    if (a === 0 || (Math.abs(rgb[at]! - ink[0]) * a <= 255 && Math.abs(rgb[at + 1]! - ink[1]) * a <= 255 && Math.abs(rgb[at + 2]! - ink[2]) * a <= 255)) {
      out[at] = ink[0];
      out[at + 1] = ink[1];
      out[at + 2] = ink[2];
    }
  }
  return out;
}

/** Compressed once per seal and process: every sealed document carries it, hashed, sent and stored. */
export function prepareImage(image: RasterImage): PreparedImage {
  if (image.rgb.length !== image.width * image.height * 3) throw new Error('RGB samples do not match the image size');
  if (image.alpha && image.alpha.length !== image.width * image.height) throw new Error('alpha samples do not match the image size');
  return {
    width: image.width,
    height: image.height,
    rgbDeflated: deflateSync(image.alpha ? settleInvisibleColour(image.rgb, image.alpha) : image.rgb, { level: 9 }),
    alphaDeflated: image.alpha ? deflateSync(image.alpha, { level: 9 }) : null,
  };
}

/** Writes the image (and its soft mask) as new objects of the update. */
export function addImageXObject(update: IncrementalUpdate, image: PreparedImage): PdfRef {
  const base = (colorSpace: string): Array<[string, PdfName | number]> => [
    ['Type', PdfName.of('XObject')],
    ['Subtype', PdfName.of('Image')],
    ['Width', image.width],
    ['Height', image.height],
    ['ColorSpace', PdfName.of(colorSpace)],
    ['BitsPerComponent', 8],
    ['Filter', PdfName.of('FlateDecode')],
  ];
  const imageDict = new PdfDict(base('DeviceRGB'));
  if (image.alphaDeflated) {
    const mask = update.add(new PdfStream(new PdfDict(base('DeviceGray')), image.alphaDeflated));
    imageDict.set('SMask', mask);
  }
  return update.add(new PdfStream(imageDict, image.rgbDeflated));
}
