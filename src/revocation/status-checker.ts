import { crlDistributionUris, readCertFields } from '../pki/cert-fields.js';
import type { RevocationChecker, RevocationEvidence } from '../contracts/revocation.js';
import { crlSignedBy, CrlError, parseCrl, type ParsedCrl } from './crl.js';
import { buildOcspRequest, certIdFor, checkOcspSigner, ocspUrls, OcspError, parseOcspResponse, sameCertId } from './ocsp.js';

const MAX_CRL_BYTES = 20 * 1024 * 1024;

/** HTTP(S) URLs of a certificate's CRL distribution points. */
export function crlUrls(certDer: Buffer): string[] {
  return crlDistributionUris(readCertFields(certDer)).filter((u) => /^https?:\/\//.test(u));
}

export interface StatusCheckerOptions {
  timeoutMs?: number;
  /** Answers for URLs this process can serve itself (its own CA), without HTTP. */
  local?: (url: string) => Promise<Buffer> | undefined;
  /** OCSP answers this process can give itself (its own responder), without HTTP. */
  localOcsp?: (url: string, request: Buffer) => Promise<Buffer> | undefined;
  fetchImpl?: typeof fetch;
}

type Options = { embeddedCrls?: Buffer[]; embeddedOcsps?: Buffer[]; offline?: boolean; /** the caller asked OCSP already */ skipOnlineOcsp?: boolean };

/**
 * Certificate status: OCSP first (responder from the certificate's AIA, response signed by the
 * CA or its delegated responder, matching CertID and nonce, fresh), then CRL (fetched once,
 * signature checked, parsed and indexed, kept until its nextUpdate). Evidence embedded in the
 * document is used before anything is fetched.
 */
export class StatusChecker implements RevocationChecker {
  private readonly cache = new Map<string, { crl: ParsedCrl; der: Buffer; fetchedAt: number }>();

  constructor(private readonly options: StatusCheckerOptions = {}) {}

  private async load(url: string): Promise<ParsedCrl> {
    return (await this.loadWithDer(url)).crl;
  }

  private async loadWithDer(url: string): Promise<{ crl: ParsedCrl; der: Buffer }> {
    const cached = this.cache.get(url);
    const now = Date.now();
    if (cached && cached.crl.nextUpdate && cached.crl.nextUpdate.getTime() > now) return cached;
    let der: Buffer;
    const local = this.options.local?.(url);
    // The service's own CA is asked every time (cheap, and revocations show at once).
    if (local) return { crl: parseCrl(await local), der: await local };
    {
      const response = await (this.options.fetchImpl ?? fetch)(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000) });
      if (!response.ok) throw new CrlError(`${url} answered ${response.status}`);
      const length = Number(response.headers.get('content-length') ?? 0);
      if (length > MAX_CRL_BYTES) throw new CrlError(`${url} is larger than ${MAX_CRL_BYTES} bytes`);
      der = Buffer.from(await response.arrayBuffer());
      if (der.length > MAX_CRL_BYTES) throw new CrlError(`${url} is larger than ${MAX_CRL_BYTES} bytes`);
    }
    const crl = parseCrl(der);
    this.cache.set(url, { crl, der, fetchedAt: now });
    return { crl, der };
  }

  /** The CRLs (DER) that cover each certificate of the chain below its anchor, for embedding. */
  async crlsFor(chain: Buffer[]): Promise<Buffer[]> {
    const found: Buffer[] = [];
    for (let i = 0; i + 1 < chain.length; i++) {
      for (const url of crlUrls(chain[i]!)) {
        try {
          const { crl, der } = await this.loadWithDer(url);
          if (crlSignedBy(crl, chain[i + 1]!)) {
            if (!found.some((f) => f.equals(der))) found.push(der);
            break;
          }
        } catch {
          // an unreachable distribution point only means less embedded evidence
        }
      }
    }
    return found;
  }

  /** A CRL from the file's own evidence that speaks for `at`: issued after it, or current at it. */
  private fromEmbedded(certDer: Buffer, issuerDer: Buffer, at: Date, embedded: Buffer[]): RevocationEvidence | undefined {
    const serial = readCertFields(certDer).serialHex;
    for (const der of embedded) {
      let crl: ParsedCrl;
      try {
        crl = parseCrl(der);
      } catch {
        continue;
      }
      if (!crl.issuerDer.equals(readCertFields(certDer).issuerDer) || !crlSignedBy(crl, issuerDer)) continue;
      const speaksForAt = crl.thisUpdate >= at || (crl.thisUpdate <= at && (crl.nextUpdate === null || at <= crl.nextUpdate));
      if (!speaksForAt) continue;
      const entry = crl.revoked.get(serial);
      if (entry) {
        return { checked: true, status: 'revoked', source: 'embedded-crl', revokedAt: entry.revokedAt.toISOString(), detail: `revoked at ${entry.revokedAt.toISOString()} per the embedded CRL of ${crl.thisUpdate.toISOString()}` };
      }
      return { checked: true, status: 'good', source: 'embedded-crl', detail: `not revoked per the CRL of ${crl.thisUpdate.toISOString()} embedded in the document` };
    }
    return undefined;
  }

  /** An OCSP response (DER) for the certificate, verified, or undefined. */
  async fetchOcsp(certDer: Buffer, issuerDer: Buffer): Promise<{ der: Buffer; evidence: RevocationEvidence } | undefined> {
    for (const url of ocspUrls(certDer)) {
      try {
        const { der: request, nonce, certId } = buildOcspRequest(certDer, issuerDer);
        const local = this.options.localOcsp?.(url, request);
        let der: Buffer;
        if (local) der = await local;
        else {
          const response = await (this.options.fetchImpl ?? fetch)(url, {
            method: 'POST',
            headers: { 'content-type': 'application/ocsp-request' },
            body: new Uint8Array(request),
            signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
          });
          if (!response.ok) continue;
          der = Buffer.from(await response.arrayBuffer());
          if (der.length > 1024 * 1024) continue;
        }
        const evidence = this.ocspEvidence(der, certDer, issuerDer, new Date(), { nonce, certId, source: 'ocsp', url });
        if (evidence) return { der, evidence };
      } catch {
        // next responder, then CRLs
      }
    }
    return undefined;
  }

  private ocspEvidence(
    der: Buffer,
    certDer: Buffer,
    issuerDer: Buffer,
    at: Date,
    context: { nonce?: Buffer; certId?: ReturnType<typeof certIdFor>; source: 'ocsp' | 'embedded-ocsp'; url?: string },
  ): RevocationEvidence | undefined {
    let parsed;
    try {
      parsed = parseOcspResponse(der);
    } catch (err) {
      if (err instanceof OcspError) return undefined;
      throw err;
    }
    if (parsed.responseStatus !== 0) return undefined;
    if (checkOcspSigner(parsed, issuerDer) !== null) return undefined;
    if (context.nonce && parsed.nonce && !parsed.nonce.equals(context.nonce)) return undefined;
    const single = parsed.responses.find((r) => {
      if (r.certId.hashAlgorithm === 'unknown') return false;
      return sameCertId(r.certId, certIdFor(certDer, issuerDer, r.certId.hashAlgorithm));
    });
    if (!single) return undefined;
    const now = new Date();
    if (context.source === 'ocsp') {
      if (single.thisUpdate.getTime() > now.getTime() + 5 * 60_000) return undefined;
      if (single.nextUpdate && single.nextUpdate < now) return undefined;
    } else {
      const speaksForAt = single.thisUpdate >= at || (single.thisUpdate <= at && (!single.nextUpdate || at <= single.nextUpdate));
      if (!speaksForAt) return undefined;
    }
    const where = context.url ? ` from ${context.url}` : ' embedded in the document';
    const window = { thisUpdate: single.thisUpdate.toISOString(), ...(single.nextUpdate ? { nextUpdate: single.nextUpdate.toISOString() } : {}) };
    if (single.status === 'revoked') {
      return { checked: true, status: 'revoked', source: context.source, ...window, revokedAt: single.revokedAt?.toISOString(), ...(single.reason !== undefined ? { reason: single.reason } : {}), detail: `revoked at ${single.revokedAt?.toISOString()} per the OCSP response of ${single.thisUpdate.toISOString()}${where}` };
    }
    if (single.status === 'unknown') return { checked: false, status: 'unknown', source: context.source, detail: `the OCSP responder does not know the certificate${where}` };
    return { checked: true, status: 'good', source: context.source, ...window, detail: `good per the OCSP response of ${single.thisUpdate.toISOString()}${where}` };
  }

  private async checkOne(certDer: Buffer, issuerDer: Buffer, at: Date, options: Options): Promise<RevocationEvidence> {
    for (const der of options.embeddedOcsps ?? []) {
      const evidence = this.ocspEvidence(der, certDer, issuerDer, at, { source: 'embedded-ocsp' });
      if (evidence?.checked) return evidence;
    }
    const embedded = this.fromEmbedded(certDer, issuerDer, at, options.embeddedCrls ?? []);
    if (embedded) return embedded;
    if (options.offline) return { checked: false, status: 'unknown', detail: 'offline validation: the document embeds no OCSP response or CRL that covers this certificate at the time of signing' };
    const ocsp = options.skipOnlineOcsp ? undefined : await this.fetchOcsp(certDer, issuerDer);
    if (ocsp?.evidence.checked) return ocsp.evidence;
    const urls = crlUrls(certDer);
    if (urls.length === 0) return { checked: false, detail: 'no OCSP answer and no CRL distribution point' };
    const serial = readCertFields(certDer).serialHex;
    const failures: string[] = [];
    for (const url of urls) {
      try {
        const crl = await this.load(url);
        if (!crlSignedBy(crl, issuerDer)) {
          failures.push(`${url}: not signed by the certificate's issuer`);
          continue;
        }
        const now = new Date();
        if (crl.nextUpdate && crl.nextUpdate < now) {
          failures.push(`${url}: stale (next update was ${crl.nextUpdate.toISOString()})`);
          continue;
        }
        const entry = crl.revoked.get(serial);
        const window = { thisUpdate: crl.thisUpdate.toISOString(), ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.toISOString() } : {}) };
        if (entry) {
          return {
            checked: true,
            status: 'revoked',
            source: 'crl',
            ...window,
            ...(entry.reason !== null ? { reason: entry.reason } : {}),
            revokedAt: entry.revokedAt.toISOString(),
            detail: `revoked at ${entry.revokedAt.toISOString()} per the CRL of ${crl.thisUpdate.toISOString()} from ${url}${entry.reason !== null ? ` (reason ${entry.reason})` : ''}`,
          };
        }
        return { checked: true, status: 'good', source: 'crl', ...window, detail: `not revoked per the CRL of ${crl.thisUpdate.toISOString()} from ${url} (checked for ${at.toISOString()})` };
      } catch (err) {
        failures.push(`${url}: ${(err as Error).message}`);
      }
    }
    return { checked: false, status: 'unknown', detail: `revocation status unavailable: ${failures.join('; ')}` };
  }

  /** Checks every certificate of the chain below the trust anchor; the worst answer wins. */
  /** OCSP responses (DER) for each certificate of the chain below its anchor, for embedding. */
  async ocspsFor(chain: Buffer[]): Promise<Buffer[]> {
    const found: Buffer[] = [];
    for (let i = 0; i + 1 < chain.length; i++) {
      const answer = await this.fetchOcsp(chain[i]!, chain[i + 1]!);
      if (answer?.evidence.checked) found.push(answer.der);
    }
    return found;
  }

  async check(chain: Buffer[], at: Date, options: Options = {}): Promise<RevocationEvidence> {
    const results: RevocationEvidence[] = [];
    for (let i = 0; i + 1 < chain.length; i++) results.push(await this.checkOne(chain[i]!, chain[i + 1]!, at, options));
    return combineEvidence(results);
  }
}

/** The status of a chain from its certificates' statuses: any revocation wins, then any unknown. */
export function combineEvidence(results: RevocationEvidence[]): RevocationEvidence {
  if (results.length === 0) return { checked: false, detail: 'the signer certificate is itself a trust anchor' };
  const revoked = results.find((r) => r.status === 'revoked');
  if (revoked) return revoked;
  const unknown = results.find((r) => !r.checked);
  if (unknown) return { ...unknown, checked: false, status: 'unknown' };
  return { ...results[0]!, detail: results.map((r) => r.detail).join('; ') };
}
