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

/** Why a client may not seal at all, found when its sealing is recorded; the HTTP layer answers 401 or 403. */
export class SealingClientError extends Error {
  override name = 'SealingClientError';
  constructor(
    readonly reason: 'client-unavailable' | 'client-lacks-role',
    message: string,
  ) {
    super(message);
  }
}
