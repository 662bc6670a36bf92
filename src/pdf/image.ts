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

export function prepareImage(image: RasterImage): PreparedImage {
  if (image.rgb.length !== image.width * image.height * 3) throw new Error('RGB samples do not match the image size');
  if (image.alpha && image.alpha.length !== image.width * image.height) throw new Error('alpha samples do not match the image size');
  return {
    width: image.width,
    height: image.height,
    rgbDeflated: deflateSync(image.rgb, { level: 9 }),
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
