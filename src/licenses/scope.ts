import { parseLicenseIdentifier } from './identifier.js';
import { unprintableCharacter } from './printable.js';

/** What an issuing client may act for: the authorities it is bound to and the seals it may use. */
export interface IssuerScope {
  /** USCCs of the issuing authorities (颁发机构代码). */
  authorities: readonly string[];
  sealIds: readonly string[];
}

/** Why a client may not issue, replace or revoke this licence; the HTTP layer answers 403. */
export class LicenseScopeError extends Error {
  override name = 'LicenseScopeError';
  constructor(
    readonly reason: 'authority-not-bound' | 'issuing-seal-not-permitted',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A licence is issued with its type's seal, in the name of that seal's organisation: the client
 * must be bound to that organisation and allowed the seal. Being allowed a seal for plain
 * sealing does not make a client an issuer for its department.
 */
export function assertMayIssueWith(scope: IssuerScope, seal: { id: string; orgUscc: string; orgName: string }): void {
  if (!scope.authorities.includes(seal.orgUscc)) {
    throw new LicenseScopeError('authority-not-bound', `this API key does not act for ${seal.orgName} (${seal.orgUscc}), whose seal this licence type carries`);
  }
  if (!scope.sealIds.includes(seal.id)) throw new LicenseScopeError('issuing-seal-not-permitted', `this API key may not use the seal "${seal.id}" that this licence type carries`);
}

/**
 * Revoking or replacing needs a binding to the licence's issuer, which its identifier names:
 * the check needs no database read, so a refusal says nothing of whether the licence exists.
 * An identifier that does not parse names no licence; the caller answers as for an unknown one.
 */
export function assertMayActFor(scope: IssuerScope, licenseId: string): void {
  const issuer = parseLicenseIdentifier(licenseId)?.issuerCode;
  if (issuer !== undefined && !scope.authorities.includes(issuer)) {
    throw new LicenseScopeError('authority-not-bound', `this API key does not act for the issuing authority ${issuer} of this licence`);
  }
}

/** The longest purpose name; a purpose is a short name like 办理食品经营许可变更 or `tax-registration`. */
export const MAX_PURPOSE_LENGTH = 64;

/** Why `purpose` cannot be a purpose's name, or null: 1 to 64 printable characters, no spaces at either end. */
export function purposeNameProblem(purpose: string): string | null {
  if (purpose.length === 0 || [...purpose].length > MAX_PURPOSE_LENGTH) return `a purpose is 1 to ${MAX_PURPOSE_LENGTH} characters`;
  if (purpose.trim() !== purpose) return 'a purpose has no spaces at its start or end';
  return unprintableCharacter(purpose, false);
}
