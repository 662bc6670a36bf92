/**
 * Why a document cannot be sealed or extended as asked, for the HTTP layer to answer with a 4xx.
 * Kept apart from the signing code so that error handling loads none of it.
 */
import type { MissingEvidence } from './ltv-evidence.js';

export class NothingToExtendError extends Error {
  override name = 'NothingToExtendError';
}

/** Revocation data could not be had for some certificates, and the caller asked for all or nothing. */
export class LtvIncompleteError extends Error {
  override name = 'LtvIncompleteError';
  constructor(readonly missing: MissingEvidence[]) {
    super(`no revocation data could be had for ${missing.length} certificate(s): ${missing.map((m) => `${m.subject} (serial ${m.serialNumber}): ${m.reason}`).join('; ')}`);
  }
}

/** A placement the document does not allow; the HTTP layer answers 422 with `slug`. */
export class PlacementError extends Error {
  override name = 'PlacementError';
  constructor(
    readonly slug: 'invalid-placement' | 'anchor-not-found',
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** Why a document cannot take a seal, for the HTTP layer to turn into a problem. */
export class NotSealableError extends Error {
  override name = 'NotSealableError';
  constructor(
    readonly reason: 'certified-no-changes' | 'needs-repair' | 'encrypted',
    message: string,
  ) {
    super(message);
  }
}

export class LevelUnavailableError extends Error {
  override name = 'LevelUnavailableError';
}
