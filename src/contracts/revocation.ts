/**
 * The port between validation and the certificate-status service: what the verifier asks and
 * what the status service answers. Both sides depend on this module, neither on the other.
 */

export interface RevocationEvidence {
  checked: boolean;
  status?: 'good' | 'revoked' | 'unknown';
  source?: 'ocsp' | 'crl' | 'embedded-ocsp' | 'embedded-crl';
  revokedAt?: string;
  /** RFC 5280 CRLReason code of a revocation, when given. */
  reason?: number;
  /** The validity window of the answer (OCSP thisUpdate/nextUpdate, CRL thisUpdate/nextUpdate). */
  thisUpdate?: string;
  nextUpdate?: string;
  detail: string;
  /** Only in the status cache: the responder's original OCSP response (base64), never in reports. */
  ocspResponse?: string;
}

/** Answers whether a certificate was revoked; filled in by the certificate-status service. */
export interface RevocationChecker {
  /**
   * `at` is the time the status must hold for (the proof of existence). Embedded evidence (the
   * file's /DSS) is used first; `offline` forbids fetching anything.
   */
  check(chain: Buffer[], at: Date, options?: { embeddedCrls?: Buffer[]; embeddedOcsps?: Buffer[]; offline?: boolean }): Promise<RevocationEvidence>;
}
