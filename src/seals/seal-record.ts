import type { Pkcs11KeyRef } from '../pki/pkcs11/key-ref.js';
import type { SealType } from './seal-types.js';

export type SealStatus = 'active' | 'revoked';

/**
 * Where a seal's private key lives: a PKCS#12 keystore under the service's keystore password,
 * in the database (shared by every instance) or, for data dirs from before that, in a file; or
 * a key in a PKCS#11 token, which never leaves it.
 */
export type KeyRef = { kind: 'pkcs12'; file: string } | { kind: 'pkcs12'; stored: 'database' } | Pkcs11KeyRef;

export interface SealRecord {
  id: string;
  orgName: string;
  orgUscc: string;
  sealType: SealType;
  /** The seal's name as engraved: the organisation name plus the purpose for special seals. */
  name: string;
  diameterMm: number;
  imagePng: Buffer;
  /** PEM certificates, leaf first. */
  chainPem: string[];
  keyRef: KeyRef;
  notBefore: string;
  notAfter: string;
  status: SealStatus;
  createdAt: string;
  /** A national e-seal (GB/T 38540 SESeal) the seal signs with, as DER; null for a seal of this service's own. */
  sesSeal: Buffer | null;
}

/** The part of a seal record that says whether it may sign now. */
export type SealStanding = Pick<SealRecord, 'id' | 'status' | 'notBefore' | 'notAfter'>;

export interface NewSeal {
  id?: string;
  orgName: string;
  orgUscc: string;
  sealType: SealType;
  diameterMm?: number;
  /** A PNG with transparency; when absent the standard seal image is drawn. */
  imagePng?: Buffer;
  chainDer: Buffer[];
  keyRef: KeyRef;
  /** A national e-seal (GB/T 38540 SESeal) made for this certificate: its picture replaces the drawn one. */
  sesSeal?: Buffer;
}
