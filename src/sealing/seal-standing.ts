import type { AuditGuard } from '../audit/log.js';
import { readStandings } from '../seals/repository.js';
import type { SealStanding } from '../seals/seal-record.js';
import type { Db } from '../store/db.js';
import { SealUnavailableError } from './errors.js';

/** Refuses seals that must not be used now: revoked, or outside their certificate's validity. */
export function assertUsable(seal: SealStanding, now = new Date()): void {
  if (seal.status !== 'active') throw new SealUnavailableError('seal-not-active', `seal ${seal.id} is ${seal.status}`);
  if (now < new Date(seal.notBefore) || now > new Date(seal.notAfter)) {
    throw new SealUnavailableError('seal-certificate-not-valid', `valid from ${seal.notBefore} to ${seal.notAfter}`);
  }
}

/** Refuses a seal that does not exist, that the caller may not use (when it is limited to `allowedSealIds`), or that is not usable now. */
export function assertAllowed<T extends SealStanding>(sealId: string, seal: T | undefined, allowedSealIds?: readonly string[]): asserts seal is T {
  if (!seal) throw new SealUnavailableError('unknown-seal', `there is no seal "${sealId}"`);
  if (allowedSealIds && !allowedSealIds.includes(seal.id)) throw new SealUnavailableError('seal-not-permitted', `seal "${seal.id}" is not in this API key's list`);
  assertUsable(seal);
}

/**
 * The last word on whether a sealing may be answered: the audit entry of a sealing is written
 * only if its seal is still usable, read in the transaction that writes the entry, under the
 * audit chain's lock. Revocation takes that lock too and records itself under it, so a
 * revocation is either seen here, and the sealing fails with nothing answered, or it commits
 * after this entry, and the sealing came first.
 */
export const sealStandingGuard: AuditGuard = {
  async refusals(tx: Db, sealIds: readonly string[]): Promise<Map<string, Error>> {
    const standings = await readStandings(tx, sealIds);
    const refusals = new Map<string, Error>();
    const now = new Date();
    for (const sealId of sealIds) {
      try {
        const standing = standings.get(sealId);
        if (!standing) throw new SealUnavailableError('unknown-seal', `there is no seal "${sealId}"`);
        assertUsable(standing, now);
      } catch (err) {
        refusals.set(sealId, err as Error);
      }
    }
    return refusals;
  },
};
