import type { SealType } from './seal-types.js';

export class SealInputError extends Error {
  override name = 'SealInputError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** The certificate's policies do not allow the seal type asked for (422 `seal-type-not-allowed`). */
export class SealTypeNotAllowedError extends SealInputError {
  override name = 'SealTypeNotAllowedError';
  constructor(
    readonly sealType: SealType,
    /** The certificate's policy OIDs; null when it has no certificatePolicies extension. */
    readonly certificatePolicies: string[] | null,
    readonly allowedSealTypes: SealType[],
  ) {
    super(
      `the certificate's policies (${certificatePolicies === null ? 'none: no certificatePolicies extension' : certificatePolicies.join(', ')}) do not allow a ${sealType} seal; they allow ${allowedSealTypes.length ? allowedSealTypes.join(', ') : 'no seal type'}`,
      'sealType',
    );
  }
}
