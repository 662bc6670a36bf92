/** Why a PKCS#12 file cannot be used: kept apart from the reader so error handling loads no crypto. */
export type Pkcs12ErrorCode = 'BAD_PASSWORD' | 'MALFORMED' | 'NO_KEY' | 'NO_CERT' | 'KEY_CERT_MISMATCH';

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
  constructor(
    readonly code: Pkcs12ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
