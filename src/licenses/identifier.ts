import { isValidUscc, mod3736CheckCharacter } from '../codes/check-characters.js';

/** The root of GB/T 36904 license identifiers (证照标识). */
export const LICENSE_ID_ROOT = '1.2.156.3005.2';

export interface LicenseIdentifierParts {
  /** 21 characters: the defining authority's USCC and a 3-digit sequence. */
  typeCode: string;
  /** The issuing authority's USCC. */
  issuerCode: string;
  /** 7 to 32 characters of 0-9A-Z. */
  serial: string;
  /** 3 digits, 001 for the first issue. */
  version: string;
}

export class LicenseIdentifierError extends Error {
  override name = 'LicenseIdentifierError';
}

/** Builds `1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>` with its ISO 7064 MOD 37,36 check character. */
export function buildLicenseIdentifier(parts: LicenseIdentifierParts): string {
  const { typeCode, issuerCode, serial, version } = parts;
  if (!/^[0-9A-Z]{21}$/.test(typeCode)) throw new LicenseIdentifierError('the type code must be 21 characters of 0-9A-Z');
  if (!isValidUscc(issuerCode)) throw new LicenseIdentifierError('the issuer code must be a valid unified social credit code');
  if (!/^[0-9A-Z]{7,32}$/.test(serial)) throw new LicenseIdentifierError('the serial must be 7 to 32 characters of 0-9A-Z');
  if (!/^\d{3}$/.test(version) || version === '000') throw new LicenseIdentifierError('the version must be 3 digits from 001');
  const check = mod3736CheckCharacter(`${typeCode}${issuerCode}${serial}${version}`)!;
  return `${LICENSE_ID_ROOT}.${typeCode}.${issuerCode}.${serial}.${version}.${check}`;
}

/** Splits an identifier and verifies its check character; null when it is not a valid identifier. */
export function parseLicenseIdentifier(identifier: string): LicenseIdentifierParts | null {
  if (!identifier.startsWith(`${LICENSE_ID_ROOT}.`)) return null;
  const parts = identifier.slice(LICENSE_ID_ROOT.length + 1).split('.');
  if (parts.length !== 5) return null;
  const [typeCode, issuerCode, serial, version, check] = parts as [string, string, string, string, string];
  if (!/^[0-9A-Z]+$/.test(typeCode + issuerCode + serial + version) || !/^\d{3}$/.test(version)) return null;
  return mod3736CheckCharacter(`${typeCode}${issuerCode}${serial}${version}`) === check ? { typeCode, issuerCode, serial, version } : null;
}
