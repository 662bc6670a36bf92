/**
 * The electronic seal (电子印章数据, `SESeal`) and electronic seal signature (电子签章数据,
 * `SES_Signature`) of GB/T 38540-2020 (version 4) and GM/T 0031-2014 (version 1), as the
 * service reads and writes them. Both versions carry the same facts; they differ in the order of
 * fields, in UTCTime against GeneralizedTime, and in where the signer's certificate sits.
 */

/** 1: GM/T 0031-2014; 4: GB/T 38540-2020. Versions 2 and 3 use the GM/T 0031 layout. */
export type SesLayout = 1 | 4;

export interface SesPicture {
  /** The image format as the seal names it: PNG, JPG, GIF, BMP, SVG or OFD (vector). */
  format: string;
  data: Buffer;
  /** The printed size in millimetres. */
  widthMm: number;
  heightMm: number;
}

export interface SesExtension {
  id: string;
  critical: boolean;
  value: Buffer;
}

/** The certificates a seal may sign with: the certificates themselves, or their digests (GB/T 38540 only). */
export type SesCertList =
  | { kind: 'certificates'; certificates: Buffer[] }
  | { kind: 'digests'; digests: Array<{ algorithm: string; value: Buffer }> };

export interface SesSealInfo {
  /** `header.version` as written (4 for GB/T 38540, 1 for GM/T 0031). */
  version: number;
  /** `header.Vid`: the seal maker's vendor identifier. */
  vendorId: string;
  /** The seal's identifier (esID). */
  esId: string;
  /** The seal type number (`property.type`). */
  type: number;
  name: string;
  certList: SesCertList;
  createdAt: Date;
  validFrom: Date;
  validTo: Date;
  picture: SesPicture;
  extensions: SesExtension[];
}

export interface SesSeal {
  layout: SesLayout;
  info: SesSealInfo;
  /** DER of `SES_SealInfo`, the heart of what the maker signed. */
  infoDer: Buffer;
  /** The seal maker's certificate (制章者证书). */
  makerCertificate: Buffer;
  signatureAlgorithm: string;
  signatureValue: Buffer;
  /** The whole seal as DER. */
  der: Buffer;
}

export interface SesSignature {
  layout: SesLayout;
  /** `TBS_Sign.version`. */
  version: number;
  seal: SesSeal;
  /** The signing time the signer states (GB/T 38540: GeneralizedTime; GM/T 0031: UTCTime text in a BIT STRING), or null when unreadable. */
  signedAt: Date | null;
  /** The hash of the signed data (原文杂凑值). */
  dataHash: Buffer;
  /** What the signer says about the signed data (原文数据的属性). */
  propertyInfo: string;
  signerCertificate: Buffer;
  signatureAlgorithm: string;
  signatureValue: Buffer;
  /** An RFC 3161 token over the signature value (GB/T 38540 only). */
  timeStamp: Buffer | null;
  extensions: SesExtension[];
  /** DER of `TBS_Sign`: what the signer signed. */
  tbsDer: Buffer;
  der: Buffer;
}
