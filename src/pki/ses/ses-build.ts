/**
 * Writes `SESeal` and `SES_Signature` as DER, in the GB/T 38540-2020 layout (version 4) that the
 * service issues and signs with, and in the GM/T 0031-2014 layout (version 1) for seals that
 * older systems still expect. Signatures are SM2 with SM3 through the Signer interface, so a
 * key in a token signs the same way as a key in a keystore.
 *
 * What the seal maker signs differs between the layouts as products write them: over
 * `SEQUENCE { sealInfo, cert, signatureAlgorithm }` for version 1, over `SES_SealInfo` alone for
 * version 4; ses-verify.ts accepts either form for either layout.
 */
import { integer, octetString, oid, sequence, tlv, x509Time, generalizedTime } from '../der.js';
import { OID } from '../oids.js';
import type { Signer } from '../signer.js';
import type { SesCertList, SesExtension, SesLayout, SesSealInfo } from './ses-structures.js';

const ia5String = (value: string): Buffer => {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`"${value}" is not printable ASCII`);
  return tlv(0x16, Buffer.from(value, 'latin1'));
};
const utf8String = (value: string): Buffer => tlv(0x0c, Buffer.from(value, 'utf8'));
const bitString = (bytes: Buffer): Buffer => tlv(0x03, Buffer.from([0]), bytes);

function utcTime(date: Date): Buffer {
  if (date.getUTCFullYear() >= 2050) throw new Error('a GM/T 0031 seal cannot express dates from 2050 (UTCTime)');
  return x509Time(date);
}

function extensionList(extensions: readonly SesExtension[]): Buffer[] {
  if (extensions.length === 0) return [];
  return [sequence(...extensions.map((e) => sequence(oid(e.id), ...(e.critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octetString(e.value))))];
}

/** What a seal says, as SES_SealInfo carries it; the layout decides its version and time types. */
export type SesSealContent = Omit<SesSealInfo, 'version' | 'extensions'> & { layout: SesLayout; extensions?: SesExtension[] };

function certListFields(layout: SesLayout, list: SesCertList): Buffer[] {
  if (list.kind === 'certificates') {
    const certs = sequence(...list.certificates.map(octetString));
    return layout === 1 ? [certs] : [integer(1), certs];
  }
  if (layout === 1) throw new Error('a GM/T 0031 seal lists certificates, not digests');
  return [integer(2), sequence(...list.digests.map((d) => sequence(tlv(0x13, Buffer.from(d.algorithm, 'latin1')), octetString(d.value))))];
}

/** DER of `SES_SealInfo`. */
export function encodeSealInfo(content: SesSealContent): Buffer {
  const time = content.layout === 1 ? utcTime : generalizedTime;
  const version = content.layout === 1 ? 1 : 4;
  const { picture } = content;
  return sequence(
    sequence(ia5String('ES'), integer(version), ia5String(content.vendorId)),
    ia5String(content.esId),
    sequence(integer(content.type), utf8String(content.name), ...certListFields(content.layout, content.certList), time(content.createdAt), time(content.validFrom), time(content.validTo)),
    sequence(ia5String(picture.format), octetString(picture.data), integer(picture.widthMm), integer(picture.heightMm)),
    ...extensionList(content.extensions ?? []),
  );
}

/** What the maker's signature covers, in the form this layout's seals are made with. */
export function makerSignedContent(layout: SesLayout, infoDer: Buffer, makerCertificate: Buffer, algorithm: string): Buffer {
  return layout === 1 ? sequence(infoDer, octetString(makerCertificate), oid(algorithm)) : infoDer;
}

/** A seal made and signed (SM2 with SM3) by the seal maker. */
export async function makeSesSeal(content: SesSealContent, maker: { certificate: Buffer; signer: Signer }): Promise<Buffer> {
  const infoDer = encodeSealInfo(content);
  const algorithm = OID.sm2WithSm3;
  const signature = await maker.signer.sign(makerSignedContent(content.layout, infoDer, maker.certificate, algorithm), 'sm3');
  const signed = [octetString(maker.certificate), oid(algorithm), bitString(signature)];
  return content.layout === 1 ? sequence(infoDer, sequence(...signed)) : sequence(infoDer, ...signed);
}

export interface SesSignatureContent {
  /** The seal, as DER; its layout decides the signature's. */
  sealDer: Buffer;
  layout: SesLayout;
  signedAt: Date;
  /** SM3 of the signed data. */
  dataHash: Buffer;
  propertyInfo: string;
  signerCertificate: Buffer;
  extensions?: SesExtension[];
}

/** DER of `TBS_Sign`: what the signer signs. */
export function encodeTbsSign(content: SesSignatureContent): Buffer {
  const algorithm = OID.sm2WithSm3;
  if (content.layout === 1) {
    return sequence(
      integer(1),
      content.sealDer,
      bitString(utcTime(content.signedAt)),
      bitString(content.dataHash),
      ia5String(content.propertyInfo),
      octetString(content.signerCertificate),
      oid(algorithm),
      ...extensionList(content.extensions ?? []),
    );
  }
  return sequence(integer(4), content.sealDer, generalizedTime(content.signedAt), bitString(content.dataHash), ia5String(content.propertyInfo), ...extensionList(content.extensions ?? []));
}

/**
 * An SES_Signature over `dataHash`, signed SM2 with SM3 by the holder of the signer certificate;
 * `timeStamp` (GB/T 38540 only) is asked for the signature value once it exists.
 */
export async function makeSesSignature(content: SesSignatureContent, signer: Signer, timeStamp?: (signatureValue: Buffer) => Promise<Buffer>): Promise<Buffer> {
  const tbs = encodeTbsSign(content);
  const signature = await signer.sign(tbs, 'sm3');
  if (content.layout === 1) return sequence(tbs, bitString(signature));
  const token = timeStamp ? [tlv(0xa0, bitString(await timeStamp(signature)))] : [];
  return sequence(tbs, octetString(content.signerCertificate), oid(OID.sm2WithSm3), bitString(signature), ...token);
}
