import { prepareImage, type PreparedImage } from '../pdf/image.js';
import { renderSealPng } from './image.js';
import { decodePng, PngError } from './png.js';
import { SealInputError } from './errors.js';
import { SEAL_PURPOSE, type SealType } from './seal-types.js';

/**
 * The picture a new seal shows: the uploaded PNG, which must have a transparent background and
 * at least 64x64 pixels, or, without one, the standard seal drawn for the organisation and type.
 */
export function sealImagePng(seal: { imagePng?: Buffer; orgName: string; sealType: SealType; diameterMm: number }): Buffer {
  if (!seal.imagePng) return renderSealPng({ orgName: seal.orgName, purpose: SEAL_PURPOSE[seal.sealType], diameterMm: seal.diameterMm });
  try {
    const decoded = decodePng(seal.imagePng);
    if (!decoded.alpha) throw new SealInputError('the seal image must have a transparent background', 'image');
    if (decoded.width < 64 || decoded.height < 64) throw new SealInputError('the seal image must be at least 64x64 pixels', 'image');
  } catch (err) {
    if (err instanceof PngError) throw new SealInputError(`seal image: ${err.message}`, 'image');
    throw err;
  }
  return seal.imagePng;
}

/** A registered seal's PNG as the page draws it: an image XObject with its soft mask. */
export function pageImage(png: Buffer): PreparedImage {
  return prepareImage(decodePng(png));
}
