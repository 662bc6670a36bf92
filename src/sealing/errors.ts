/** Why a seal cannot be used for this request; the HTTP layer answers 404, 403, 409 or 422. */
export class SealUnavailableError extends Error {
  override name = 'SealUnavailableError';
  constructor(
    readonly reason: 'unknown-seal' | 'seal-not-permitted' | 'seal-not-active' | 'seal-certificate-not-valid' | 'seal-not-national',
    message: string,
  ) {
    super(message);
  }
}
