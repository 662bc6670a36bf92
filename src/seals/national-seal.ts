/**
 * Registering a national e-seal (GB/T 38540 SESeal, or GM/T 0031): the seal must be made by a
 * maker whose certificate chains to a trusted CA, its maker signature must verify, it must be
 * valid now and list the certificate registered with it. Its own picture becomes the seal's
 * image, at the printed size the seal gives.
 */
import { Asn1Error } from '../pki/asn1.js';
import { validatePath } from '../pki/path-validate.js';
import { parseSesSeal } from '../pki/ses/ses-parse.js';
import type { SesSeal } from '../pki/ses/ses-structures.js';
import { sealListsCertificate, verifySesSeal } from '../pki/ses/ses-verify.js';
import { SealInputError } from './errors.js';
import { sesPicturePng } from './ses-picture.js';

export interface NationalSeal {
  der: Buffer;
  seal: SesSeal;
  imagePng: Buffer;
  /** The seal's printed size in millimetres (the larger side of its picture). */
  diameterMm: number;
}

export function checkNationalSeal(der: Buffer, leafDer: Buffer, trustAnchors: readonly Buffer[], at = new Date()): NationalSeal {
  let seal: SesSeal;
  try {
    seal = parseSesSeal(der);
  } catch (err) {
    if (err instanceof Asn1Error) throw new SealInputError(`not a GB/T 38540 or GM/T 0031 seal: ${err.message}`, 'sesSeal');
    throw err;
  }
  const failed = verifySesSeal(seal, at).checks.filter((c) => !c.passed);
  if (failed.length) throw new SealInputError(`the seal fails ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`, 'sesSeal');
  const makerPath = validatePath(seal.makerCertificate, [], [...trustAnchors], at);
  if (!makerPath.trustAnchorReached || makerPath.status !== 'VALID') {
    throw new SealInputError(`the seal maker certificate is not valid under a trusted CA (${makerPath.status}${makerPath.problems.length ? `: ${makerPath.problems.join('; ')}` : ''})`, 'sesSeal');
  }
  if (!sealListsCertificate(seal, leafDer)) throw new SealInputError("the seal does not list the certificate registered with it: the seal's key would sign in its name", 'sesSeal');
  const imagePng = sesPicturePng(seal.info.picture);
  return { der: seal.der, seal, imagePng, diameterMm: Math.max(seal.info.picture.widthMm, seal.info.picture.heightMm) };
}
