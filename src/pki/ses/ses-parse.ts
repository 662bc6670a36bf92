/**
 * Reads `SESeal` and `SES_Signature` in both layouts (GB/T 38540-2020 and GM/T 0031-2014) from
 * untrusted bytes, with asn1js under the limits of asn1.ts. The layout is told by the shape of
 * each structure (the number of its fields), not by the version numbers it claims, so a seal
 * that says 4 but is laid out as version 1 is read as what it is and its signature checked over
 * what it contains. What was signed is re-encoded as DER, as both standards sign DER.
 */
import * as asn1js from 'asn1js';
import {
  Asn1Error,
  bitStringBytes,
  contentsOf,
  decodeBer,
  elementsOf,
  isConstructed,
  isUniversal,
  octetsOf,
  oidOf,
  smallInteger,
  stringContents,
  timeOf,
  toDer,
  type Block,
  type DecodeLimits,
} from '../asn1.js';
import type { SesCertList, SesExtension, SesLayout, SesPicture, SesSeal, SesSealInfo, SesSignature } from './ses-structures.js';

/** A seal carries its picture (often a few hundred KB); anything near this is not a seal. */
export const SES_LIMITS: DecodeLimits = { maxBytes: 8 * 1024 * 1024, maxNodes: 20_000 };
const MAX_LISTED_CERTIFICATES = 64;
const MAX_EXTENSIONS = 64;

const TAG = { boolean: 1, utf8: 12, printable: 19, ia5: 22, bmp: 30 } as const;

function fields(block: Block, what: string, min: number, max: number): Block[] {
  if (!isUniversal(block, 16)) throw new Asn1Error(`the ${what} is not a SEQUENCE`);
  const items = elementsOf(block, max, what);
  if (items.length < min) throw new Asn1Error(`the ${what} has ${items.length} fields, at least ${min} expected`);
  return items;
}

function text(block: Block, what: string, tags: readonly number[]): string {
  if (block.idBlock.tagClass !== 1 || !tags.includes(block.idBlock.tagNumber)) throw new Asn1Error(`the ${what} is not a string of the expected type`);
  const bytes = stringContents(block);
  if (block.idBlock.tagNumber === TAG.bmp) {
    if (bytes.length % 2) throw new Asn1Error(`the ${what} is not valid BMPString`);
    return bytes.swap16().toString('utf16le');
  }
  if (block.idBlock.tagNumber === TAG.utf8) {
    const decoded = new TextDecoder('utf-8', { fatal: true });
    try {
      return decoded.decode(bytes);
    } catch {
      throw new Asn1Error(`the ${what} is not valid UTF-8`);
    }
  }
  if (bytes.some((b) => b > 0x7e || b < 0x20)) throw new Asn1Error(`the ${what} has characters outside its string type`);
  return bytes.toString('latin1');
}

const ia5 = (block: Block, what: string): string => text(block, what, [TAG.ia5, TAG.printable, TAG.utf8]);

function extensions(block: Block | undefined): SesExtension[] {
  if (!block) return [];
  return elementsOf(block, MAX_EXTENSIONS, 'extension list').map((ext) => {
    const parts = fields(ext, 'extension', 2, 3);
    const [id, second, third] = parts;
    const hasCritical = parts.length === 3;
    if (hasCritical && !isUniversal(second!, TAG.boolean)) throw new Asn1Error('the extension criticality is not a BOOLEAN');
    const critical = hasCritical ? contentsOf(second!)[0] !== 0 : false;
    return { id: oidOf(id!, 'extension id'), critical, value: octetsOf((hasCritical ? third : second)!, 'extension value') };
  });
}

function picture(block: Block): SesPicture {
  const [format, data, width, height] = fields(block, 'seal picture', 4, 4);
  return {
    format: ia5(format!, 'picture type').toUpperCase(),
    data: octetsOf(data!, 'picture data'),
    widthMm: smallInteger(width!, 'picture width'),
    heightMm: smallInteger(height!, 'picture height'),
  };
}

function certificateList(block: Block): Buffer[] {
  return elementsOf(block, MAX_LISTED_CERTIFICATES, 'certificate list').map((c) => octetsOf(c, 'listed certificate'));
}

function digestList(block: Block): Array<{ algorithm: string; value: Buffer }> {
  return elementsOf(block, MAX_LISTED_CERTIFICATES, 'certificate digest list').map((item) => {
    const [algorithm, value] = fields(item, 'certificate digest', 2, 2);
    return { algorithm: ia5(algorithm!, 'certificate digest type').toLowerCase(), value: octetsOf(value!, 'certificate digest') };
  });
}

interface ParsedProperty {
  layout: SesLayout;
  type: number;
  name: string;
  certList: SesCertList;
  createdAt: Date;
  validFrom: Date;
  validTo: Date;
}

function property(block: Block): ParsedProperty {
  const items = fields(block, 'seal properties', 6, 7);
  const type = smallInteger(items[0]!, 'seal type');
  const name = text(items[1]!, 'seal name', [TAG.utf8, TAG.bmp, TAG.printable, TAG.ia5]);
  if (items.length === 6) {
    const [, , certs, created, from, to] = items;
    return { layout: 1, type, name, certList: { kind: 'certificates', certificates: certificateList(certs!) }, createdAt: timeOf(created!, 'seal creation date'), validFrom: timeOf(from!, 'seal validity start'), validTo: timeOf(to!, 'seal validity end') };
  }
  const [, , listType, list, created, from, to] = items;
  const kind = smallInteger(listType!, 'certificate list type');
  if (kind !== 1 && kind !== 2) throw new Asn1Error(`the certificate list type ${kind} is neither 1 (certificates) nor 2 (digests)`);
  const certList: SesCertList = kind === 1 ? { kind: 'certificates', certificates: certificateList(list!) } : { kind: 'digests', digests: digestList(list!) };
  return { layout: 4, type, name, certList, createdAt: timeOf(created!, 'seal creation date'), validFrom: timeOf(from!, 'seal validity start'), validTo: timeOf(to!, 'seal validity end') };
}

function sealInfo(block: Block): { info: SesSealInfo; layout: SesLayout } {
  const [header, esId, prop, pic, ext] = fields(block, 'seal information', 4, 5);
  const [id, version, vendor] = fields(header!, 'seal header', 3, 3);
  if (ia5(id!, 'seal header id') !== 'ES') throw new Asn1Error('the seal header id is not "ES"');
  const parsed = property(prop!);
  return {
    layout: parsed.layout,
    info: {
      version: smallInteger(version!, 'seal version'),
      vendorId: ia5(vendor!, 'seal vendor id'),
      esId: ia5(esId!, 'seal id'),
      type: parsed.type,
      name: parsed.name,
      certList: parsed.certList,
      createdAt: parsed.createdAt,
      validFrom: parsed.validFrom,
      validTo: parsed.validTo,
      picture: picture(pic!),
      extensions: extensions(ext),
    },
  };
}

function sealFrom(block: Block): SesSeal {
  const items = fields(block, 'seal', 2, 4);
  const { info, layout } = sealInfo(items[0]!);
  let signInfo: Block[];
  if (items.length === 2) signInfo = fields(items[1]!, 'seal signature information', 3, 3); // GM/T 0031: SES_SignInfo
  else if (items.length === 4) signInfo = items.slice(1);
  else throw new Asn1Error('the seal has neither 2 (GM/T 0031) nor 4 (GB/T 38540) fields');
  const [cert, algorithm, value] = signInfo;
  if ((items.length === 2) !== (layout === 1)) throw new Asn1Error('the seal mixes the GM/T 0031 and GB/T 38540 layouts');
  return {
    layout,
    info,
    infoDer: toDer(items[0]!),
    makerCertificate: octetsOf(cert!, 'seal maker certificate'),
    signatureAlgorithm: oidOf(algorithm!, 'seal signature algorithm'),
    signatureValue: bitStringBytes(value!, 'seal signature value'),
    der: toDer(block),
  };
}

/** Reads a `SESeal` (either layout); throws Asn1Error naming what is wrong. */
export function parseSesSeal(der: Buffer): SesSeal {
  return sealFrom(decodeBer(der, 'seal', SES_LIMITS));
}

/** GM/T 0031 puts the signing time in a BIT STRING: the DER of a UTCTime or GeneralizedTime, or its bare text. */
function timeInBitString(block: Block): Date | null {
  const bytes = bitStringBytes(block, 'signing time');
  try {
    return timeOf(decodeBer(bytes, 'signing time', SES_LIMITS), 'signing time');
  } catch {
    if (bytes.length > 32) return null;
    const tag = bytes.length >= 15 ? 0x18 : 0x17; // YYYYMMDDHHMMSSZ against YYMMDDHHMMSSZ
    try {
      return timeOf(decodeBer(Buffer.concat([Buffer.from([tag, bytes.length]), bytes]), 'signing time', SES_LIMITS), 'signing time');
    } catch {
      return null;
    }
  }
}

function explicitTimeStamp(block: Block | undefined): Buffer | null {
  if (!block) return null;
  if (block.idBlock.tagClass !== 3 || block.idBlock.tagNumber !== 0) throw new Asn1Error('the field after the signature value is not the [0] time stamp');
  // [0] EXPLICIT BIT STRING as written by GB/T 38540 products; an IMPLICIT one is read too.
  if (isConstructed(block)) {
    const [inner] = elementsOf(block, 1, 'time stamp');
    if (!inner) throw new Asn1Error('the time stamp is empty');
    return bitStringBytes(inner, 'time stamp');
  }
  const content = contentsOf(block);
  if (content.length === 0) throw new Asn1Error('the time stamp is empty');
  return content.subarray(1);
}

/** Reads an `SES_Signature` (either layout); throws Asn1Error naming what is wrong. */
export function parseSesSignature(der: Buffer, allowTrailingBytes = false): SesSignature {
  const root = decodeBer(der, 'seal signature', SES_LIMITS, allowTrailingBytes);
  const items = fields(root, 'seal signature', 2, 5);
  const tbs = items[0]!;
  const tbsItems = fields(tbs, 'signed seal information (TBS_Sign)', 5, 8);
  const version = smallInteger(tbsItems[0]!, 'signature version');
  const seal = sealFrom(tbsItems[1]!);
  if (items.length === 2) {
    // GM/T 0031: TBS_Sign { version, eseal, timeInfo BIT STRING, dataHash, propertyInfo, cert, signatureAlgorithm, extDatas? }, signature
    const [, , timeInfo, dataHash, propertyInfo, cert, algorithm, ext] = tbsItems;
    if (!cert || !algorithm) throw new Asn1Error('the GM/T 0031 signed information lacks the signer certificate or algorithm');
    return {
      layout: 1,
      version,
      seal,
      signedAt: timeInBitString(timeInfo!),
      dataHash: bitStringBytes(dataHash!, 'data hash'),
      propertyInfo: ia5(propertyInfo!, 'property information'),
      signerCertificate: octetsOf(cert, 'signer certificate'),
      signatureAlgorithm: oidOf(algorithm, 'signature algorithm'),
      signatureValue: bitStringBytes(items[1]!, 'signature value'),
      timeStamp: null,
      extensions: extensions(ext),
      tbsDer: toDer(tbs),
      der: toDer(root),
    };
  }
  if (items.length < 4) throw new Asn1Error('the seal signature has neither 2 (GM/T 0031) nor 4 or 5 (GB/T 38540) fields');
  // GB/T 38540: TBS_Sign { version, eseal, timeInfo GeneralizedTime, dataHash, propertyInfo, extDatas? }, cert, signatureAlgID, signature, [0] timeStamp?
  if (tbsItems.length > 6) throw new Asn1Error('the GB/T 38540 signed information has too many fields');
  const [, , timeInfo, dataHash, propertyInfo, ext] = tbsItems;
  const [, cert, algorithm, value, timeStamp] = items;
  return {
    layout: 4,
    version,
    seal,
    signedAt: timeOf(timeInfo!, 'signing time'),
    dataHash: bitStringBytes(dataHash!, 'data hash'),
    propertyInfo: ia5(propertyInfo!, 'property information'),
    signerCertificate: octetsOf(cert!, 'signer certificate'),
    signatureAlgorithm: oidOf(algorithm!, 'signature algorithm'),
    signatureValue: bitStringBytes(value!, 'signature value'),
    timeStamp: explicitTimeStamp(timeStamp),
    extensions: extensions(ext),
    tbsDer: toDer(tbs),
    der: toDer(root),
  };
}

/** Whether bytes look like an SES_Signature rather than a CMS ContentInfo (whose first field is an OID). */
export function looksLikeSesSignature(bytes: Uint8Array): boolean {
  try {
    const root = decodeBer(bytes, 'signature', SES_LIMITS, true);
    const first = elementsOf(root, 8, 'signature')[0];
    return first !== undefined && !(first instanceof asn1js.ObjectIdentifier) && isUniversal(first, 16);
  } catch {
    return false;
  }
}
