import type { LicenseType } from '../licenses/types.js';

/** What a licence or notice says; the renderer decides where it goes. */
export interface LicenseContent {
  type: LicenseType;
  identifier: string;
  number: string;
  holderName: string;
  holderCode: string;
  /** GB/T 36903 持证主体代码类型 (001, 111), for the metadata. */
  holderCodeType?: string;
  fields: Record<string, unknown>;
  issuerName: string;
  /** The issuing authority's USCC, for the metadata. */
  issuerCode?: string;
  /** Dates as YYYY-MM-DD; the document prints them in the Chinese form (2026年11月30日). */
  issuedOn: string;
  validFrom?: string;
  validUntil?: string;
  /** What the QR code opens: the public verification page. */
  qrUrl: string;
  /** The diameter of the seal that will be applied; the layout keeps text out of its square. */
  sealDiameterMm: number;
}
