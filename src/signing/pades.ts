import { createHash } from 'node:crypto';
import type { PdfDocument } from '../pdf/document.js';
import type { PreparedImage } from '../pdf/image.js';
import { IncrementalUpdate } from '../pdf/incremental.js';
import {
  addSignatureField,
  displayedSize,
  fillByteRange,
  fillContents,
  type SealWidget,
} from '../pdf/signature-field.js';
import { PdfError } from '../pdf/errors.js';
import type { PadesCmsBuilder } from '../pki/cms-signer.js';
import { OID } from '../pki/oids.js';
import type { Timestamper } from '../pki/timestamper.js';
import { SES_SUBFILTER, type SesSignatureBuilder } from './ses-container.js';
import { tokenSizeHint } from './token-size.js';

/** What sealing needs of a seal: its CMS builder (certificate + key) and its prepared image. */
export interface SealMaterial {
  readonly cms: PadesCmsBuilder;
  readonly image: PreparedImage;
  /** The name written as the signature's `/Name`. */
  readonly signerName: string;
  /** Confirms the key is reachable now (keys in tokens); absent for keys in this process. */
  readonly checkKey?: () => Promise<void>;
  /** A national e-seal's SES_Signature builder, for `format: 'ses'`. */
  readonly ses?: SesSignatureBuilder;
}

/** Where the seal goes; all lengths in points, positions on the page as displayed, from its top-left. */
export type Placement =
  | { readonly kind: 'invisible' }
  | { readonly kind: 'stamp'; readonly pageIndex: number; readonly centerX: number; readonly centerY: number; readonly size: number }
  | { readonly kind: 'seam'; readonly centerY?: number; readonly size: number };

export interface SealOptions {
  placement: Placement;
  reason?: string;
  location?: string;
  docMdp?: 1 | 2 | 3;
  signingTime?: Date;
  /** With a timestamper the signature gets a signature-time-stamp (PAdES B-T). */
  timestamper?: Timestamper;
  /** `ses`: a GB/T 38540 SES_Signature in /Contents instead of CMS (the seal must be a national e-seal). */
  format?: 'cms' | 'ses';
}

export interface SealedPdf {
  /** The sealed file is `original` followed by `appended`; the original bytes are not copied. */
  readonly original: Buffer;
  readonly appended: Buffer;
  readonly fieldName: string;
  readonly byteRange: [number, number, number, number];
  /** The digest of the signed ranges (SHA-256, or SM3 for an SM2 seal). */
  readonly digest: Buffer;
  /** The signature-time-stamp token, at level B-T and above. */
  readonly timestampToken?: Buffer;
}

export function widgetsFor(doc: PdfDocument, placement: Placement): SealWidget[] {
  const pages = doc.pages();
  switch (placement.kind) {
    case 'invisible':
      return [];
    case 'stamp': {
      const page = pages[placement.pageIndex];
      if (!page) throw new PdfError('UNSUPPORTED', `the document has ${pages.length} page(s), not ${placement.pageIndex + 1}`);
      const half = placement.size / 2;
      return [{ pageIndex: placement.pageIndex, rect: { left: placement.centerX - half, top: placement.centerY - half, width: placement.size, height: placement.size } }];
    }
    case 'seam': {
      if (pages.length < 2) throw new PdfError('UNSUPPORTED', 'a seam seal needs a document of at least two pages');
      const count = pages.length;
      const sliceWidth = placement.size / count;
      return pages.map((page, i) => {
        const { width, height } = displayedSize(page);
        const centerY = placement.centerY ?? height / 2;
        return {
          pageIndex: i,
          rect: { left: width - sliceWidth, top: centerY - placement.size / 2, width: sliceWidth, height: placement.size },
          slice: { from: i / count, to: (i + 1) / count },
        };
      });
    }
  }
}

/**
 * Applies a PAdES B-B seal by incremental update: one SHA-256 pass over the signed ranges, one
 * private-key operation, and the appended bytes. The `/Contents` space is the exact maximum
 * size of the CMS this seal's key can produce. An SM2 seal hashes with SM3 and is written as
 * `adbe.pkcs7.detached`: no ETSI profile covers SM2, and its CMS is otherwise the same.
 */
/** Room for the SES property information: the media type and four byte-range numbers. */
const PROPERTY_INFO_ROOM = 96;

export async function sealDocument(doc: PdfDocument, seal: SealMaterial, options: SealOptions): Promise<SealedPdf> {
  const ses = options.format === 'ses' ? seal.ses : undefined;
  if (options.format === 'ses' && !ses) throw new PdfError('UNSUPPORTED', 'format=ses needs a national e-seal (a registered GB/T 38540 SESeal)');
  const update = new IncrementalUpdate(doc);
  const tokenRoom = options.timestamper ? await tokenSizeHint(options.timestamper) : 0;
  const signingTime = options.signingTime ?? new Date();
  const holes = addSignatureField(update, {
    subFilter: ses ? SES_SUBFILTER : seal.cms.digest === 'sm3' ? 'adbe.pkcs7.detached' : 'ETSI.CAdES.detached',
    contentsSize: ses ? ses.maxLength(tokenRoom, PROPERTY_INFO_ROOM) : seal.cms.maxLength(tokenRoom),
    signingTime,
    reason: options.reason,
    location: options.location,
    signerName: seal.signerName,
    widgets: widgetsFor(doc, options.placement),
    image: seal.image,
    docMdp: options.docMdp,
  });
  const appended = update.write();
  const original = doc.bytes;
  const byteRange = fillByteRange(appended, original.length, holes);
  const gapStart = holes.contents.offset;
  const gapEnd = gapStart + holes.contents.length;
  const digest = createHash(ses ? 'sm3' : seal.cms.digest)
    .update(original)
    .update(appended.subarray(0, gapStart))
    .update(appended.subarray(gapEnd))
    .digest();
  let timestampToken: Buffer | undefined;
  if (ses) {
    // The protection scope, as GB/T 38540 suggests for the property information.
    const propertyInfo = `application/pdf; ByteRange ${byteRange.join(' ')}; SM3`;
    fillContents(appended, holes, await ses.sign(digest, signingTime, propertyInfo, options.timestamper));
    return { original, appended, fieldName: holes.fieldName, byteRange, digest };
  }
  const { signature, encode } = await seal.cms.sign(digest);
  if (options.timestamper) {
    timestampToken = await options.timestamper.timestamp(createHash('sha256').update(signature).digest(), 'sha256');
    fillContents(appended, holes, encode([{ type: OID.signatureTimeStampToken, values: [timestampToken] }]));
  } else {
    fillContents(appended, holes, encode());
  }
  return { original, appended, fieldName: holes.fieldName, byteRange, digest, timestampToken };
}
