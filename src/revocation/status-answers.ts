import { findIssuer, ParsedCertificates, type ParsedCertificate } from './parsed-certificates.js';
import type { StatusService } from './status-service.js';

const UNKNOWN_ISSUER = JSON.stringify({ status: 'unknown', detail: 'the issuer certificate is not known: send the chain after the certificate', cached: false, stale: false }).slice(1, -1);

/**
 * The answers of `POST /v1/certificates/status`, one JSON object per certificate. Each distinct
 * certificate is parsed, and its issuer found and checked, once (`certificates`); its status
 * comes from the cache by (issuer key hash, serial) with the JSON written when it was stored.
 */
export class StatusAnswers {
  constructor(
    private readonly status: StatusService,
    /** Issuers the service knows (intermediates and anchors), tried after the certificates sent. */
    private readonly knownIssuers: () => Buffer[],
    readonly certificates = new ParsedCertificates(),
  ) {}

  /** Parses through the LRU; throws InvalidCertificateError. */
  parse(der: Buffer): ParsedCertificate {
    return this.certificates.get(der);
  }

  /** The answer for `cert`, its issuer looked for in `sent` (the request's other certificates), then among the known issuers. */
  async answerJson(cert: ParsedCertificate, sent: ParsedCertificate[]): Promise<string> {
    const issuer = cert.issuer ?? findIssuer(cert, sent) ?? findIssuer(cert, this.parsedKnownIssuers());
    if (!issuer) return `{${cert.identityJson},${UNKNOWN_ISSUER}}`;
    return `{${cert.identityJson},${await this.status.statusJson(cert, issuer)}}`;
  }

  private *parsedKnownIssuers(): Generator<ParsedCertificate> {
    for (const der of this.knownIssuers()) {
      try {
        yield this.certificates.get(der);
      } catch {
        // a configured anchor node:crypto cannot read issues nothing asked about here
      }
    }
  }
}
