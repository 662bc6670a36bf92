import type { SealStanding } from '../seals/seal-record.js';
import { SealUnavailableError } from './errors.js';

/** Refuses seals that must not be used now: revoked, or outside their certificate's validity. */
export function assertUsable(seal: SealStanding, now = new Date()): void {
  if (seal.status !== 'active') throw new SealUnavailableError('seal-not-active', `seal ${seal.id} is ${seal.status}`);
  if (now < new Date(seal.notBefore) || now > new Date(seal.notAfter)) {
    throw new SealUnavailableError('seal-certificate-not-valid', `valid from ${seal.notBefore} to ${seal.notAfter}`);
  }
}

/** Refuses a seal that does not exist, that the caller may not use (when it is limited to `allowedSealIds`), or that is not usable now. */
export function assertAllowed<T extends SealStanding>(sealId: string, seal: T | undefined, allowedSealIds?: readonly string[], now = new Date()): asserts seal is T {
  if (!seal) throw new SealUnavailableError('unknown-seal', `there is no seal "${sealId}"`);
  if (allowedSealIds && !allowedSealIds.includes(seal.id)) throw new SealUnavailableError('seal-not-permitted', `seal "${seal.id}" is not in this API key's list`);
  assertUsable(seal, now);
}
