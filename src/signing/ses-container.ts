/**
 * The signature container of a PDF sealed with a national e-seal (`format=ses`): a GB/T 38540
 * `SES_Signature` in `/Contents` instead of CMS, binding the seal (`SESeal`, made by the seal
 * maker), the SM3 hash of the signed byte ranges, the signing time and the signer's certificate,
 * signed SM2 with SM3 by the seal's key; at B-T with an RFC 3161 token over the signature value.
 *
 * No PDF specification names a sub-filter for it; the service writes SES_SUBFILTER, and its
 * verifier recognises an SES_Signature by its structure under any sub-filter.
 */
import { createHash } from 'node:crypto';
import { makeSesSignature } from '../pki/ses/ses-build.js';
import { parseSesSeal } from '../pki/ses/ses-parse.js';
import type { SesLayout } from '../pki/ses/ses-structures.js';
import type { Signer } from '../pki/signer.js';
import type { Timestamper } from '../pki/timestamper.js';

export const SES_SUBFILTER = 'GB.T38540.SES_Signature';

/** Room for the TBS_Sign fields beyond the seal and certificate, the signature value and DER headers. */
const FIXED_OVERHEAD = 512;

export class SesSignatureBuilder {
  private readonly layout: SesLayout;

  constructor(
    private readonly sealDer: Buffer,
    private readonly signerCertificate: Buffer,
    private readonly signer: Signer,
  ) {
    if (signer.key.kind !== 'sm2') throw new Error('a GB/T 38540 signature is made with an SM2 key');
    this.layout = parseSesSeal(sealDer).layout;
  }

  /** The largest SES_Signature this builder writes, with room for a time stamp and the property information. */
  maxLength(tokenRoom = 0, propertyInfoRoom = 0): number {
    return this.sealDer.length + this.signerCertificate.length + propertyInfoRoom + FIXED_OVERHEAD + tokenRoom;
  }

  /** An SES_Signature over data whose SM3 hash is `dataHash`. */
  async sign(dataHash: Buffer, signedAt: Date, propertyInfo: string, timestamper?: Timestamper): Promise<Buffer> {
    const stamp = timestamper && this.layout === 4 ? (value: Buffer) => timestamper.timestamp(createHash('sha256').update(value).digest(), 'sha256') : undefined;
    return makeSesSignature({ sealDer: this.sealDer, layout: this.layout, signedAt, dataHash, propertyInfo, signerCertificate: this.signerCertificate }, this.signer, stamp);
  }
}
