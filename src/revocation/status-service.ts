import { createHash, X509Certificate } from 'node:crypto';
import { readCertFields } from '../pki/cert-fields.js';
import type { RevocationChecker, RevocationEvidence } from '../contracts/revocation.js';
import { certificateSignedBy } from '../pki/cert-signature.js';
import type { CachedStatus, StatusCache } from './cache.js';
import { certIdFor, parseOcspRequest, type CertId } from './ocsp.js';
import { keyHashOf, type ParsedCertificate } from './parsed-certificates.js';
import { combineEvidence, type StatusChecker } from './status-checker.js';

const ocspKey = (id: CertId): string => `ocsp-der:${id.hashAlgorithm}:${id.issuerNameHash.toString('hex')}:${id.issuerKeyHash.toString('hex')}:${id.serialHex}`;

export interface StatusAnswer extends RevocationEvidence {
  cached: boolean;
  stale: boolean;
}

export interface StatusServiceOptions {
  /** Upper bound on how long an answer is fresh, whatever its nextUpdate says. */
  maxTtlMs: number;
  /** How long a failed fetch is remembered, so a dead responder is not hammered. */
  errorTtlMs: number;
  /** How long past its freshness an answer may still be served, marked stale, when fetching fails. */
  staleGraceMs: number;
}

export const DEFAULT_STATUS_OPTIONS: StatusServiceOptions = { maxTtlMs: 60 * 60_000, errorTtlMs: 30_000, staleGraceMs: 24 * 60 * 60_000 };

/** Cache key of a certificate: its issuer's key and its serial number (what OCSP identifies it by). */
export function statusKey(certDer: Buffer, issuerDer: Buffer): string {
  return `${keyHashOf(issuerDer)}:${readCertFields(certDer).serialHex}`;
}

/** The same key from certificates parsed already: no parsing, no hashing. */
export function parsedStatusKey(cert: ParsedCertificate, issuer: ParsedCertificate): string {
  return `${issuer.keyHash}:${cert.serialHex}`;
}

/** The status fields of an answer as JSON members (no braces), as the status API sends them. */
export function statusFieldsJson(evidence: RevocationEvidence, cached: boolean, stale: boolean): string {
  const { checked, status, revokedAt, reason, source, thisUpdate, nextUpdate, detail } = evidence;
  return JSON.stringify({ status: checked ? status : 'unknown', revokedAt, reason, source, thisUpdate, nextUpdate, cached, stale, detail }).slice(1, -1);
}

/** A cache entry, and whether it was served from the cache and past its freshness. */
interface Resolved {
  entry: CachedStatus;
  cached: boolean;
  stale: boolean;
}

const MAX_REMEMBERED_OCSP_REQUESTS = 10_000;

/**
 * Certificate status for the platform: answers from the shared cache while fresh, one fetch
 * per certificate however many ask at once, errors remembered briefly, stale answers served
 * within a grace period when the responder is down, and invalidation broadcast on revocation.
 */
export class StatusService implements RevocationChecker {
  private readonly inflight = new Map<string, Promise<CachedStatus>>();
  /** Told of every lookup: whether the cache answered it (for the hit-ratio metric). */
  onLookup?: (hit: boolean) => void;

  constructor(
    private readonly checker: StatusChecker,
    private readonly cache: StatusCache,
    private readonly options: StatusServiceOptions = DEFAULT_STATUS_OPTIONS,
  ) {}

  async status(certDer: Buffer, issuerDer: Buffer): Promise<StatusAnswer> {
    const { entry, cached, stale } = await this.resolve(statusKey(certDer, issuerDer), certDer, issuerDer);
    return { ...entry.evidence, cached, stale };
  }

  /**
   * The status fields of the answer for a parsed certificate and its issuer, as JSON members.
   * A fresh cached answer costs one cache lookup: its JSON was written when it was stored.
   */
  async statusJson(cert: ParsedCertificate, issuer: ParsedCertificate): Promise<string> {
    const { entry, cached, stale } = await this.resolve(parsedStatusKey(cert, issuer), cert.der, issuer.der);
    if (cached && !stale && entry.answer !== undefined && entry.evidence.checked) return entry.answer;
    return statusFieldsJson(entry.evidence, cached, stale);
  }

  /** Fresh from the cache; else fetched (or a recent failure); a stale answer only when fetching fails. */
  private async resolve(key: string, certDer: Buffer, issuerDer: Buffer): Promise<Resolved> {
    const now = Date.now();
    const hit = await this.cache.get(key);
    if (hit && hit.freshUntil > now) {
      this.onLookup?.(true);
      return { entry: hit, cached: true, stale: false };
    }
    this.onLookup?.(false);
    const recentError = await this.cache.get(`${key}:error`);
    const fresh = recentError && recentError.freshUntil > now ? recentError : await this.fetch(key, certDer, issuerDer);
    const fromCache = fresh === recentError;
    if (fresh.evidence.checked) return { entry: fresh, cached: fromCache, stale: false };
    if (hit && hit.evidence.checked && now - hit.freshUntil < this.options.staleGraceMs) return { entry: hit, cached: true, stale: true };
    return { entry: fresh, cached: fromCache, stale: false };
  }

  private fetch(key: string, certDer: Buffer, issuerDer: Buffer): Promise<CachedStatus> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.load(key, certDer, issuerDer).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async load(key: string, certDer: Buffer, issuerDer: Buffer): Promise<CachedStatus> {
    const now = Date.now();
    const ocsp = await this.checker.fetchOcsp(certDer, issuerDer);
    const evidence = ocsp?.evidence.checked ? ocsp.evidence : await this.checker.check([certDer, issuerDer], new Date(now), { skipOnlineOcsp: true });
    if (!evidence.checked) {
      const failed: CachedStatus = { evidence, fetchedAt: now, freshUntil: now + this.options.errorTtlMs };
      await this.cache.set(`${key}:error`, failed, this.options.errorTtlMs);
      return failed;
    }
    const nextUpdate = evidence.nextUpdate ? new Date(evidence.nextUpdate).getTime() : now + this.options.maxTtlMs;
    const freshUntil = Math.max(now, Math.min(nextUpdate, now + this.options.maxTtlMs));
    const value: CachedStatus = { evidence, fetchedAt: now, freshUntil, answer: statusFieldsJson(evidence, true, false) };
    await this.cache.set(key, value, freshUntil - now + this.options.staleGraceMs);
    await this.cache.delete(`${key}:error`);
    if (ocsp?.evidence.checked && freshUntil > now) {
      // The responder's own signed answer, stored as received for OCSP clients of this service
      // (`/ocsp`); it expires with its freshness, so it is never served past it.
      for (const algorithm of ['sha1', 'sha256']) await this.cache.setBytes(ocspKey(certIdFor(certDer, issuerDer, algorithm)), ocsp.der, freshUntil - now);
    }
    return value;
  }

  /** A cached, still fresh original OCSP response for this request's certificate, as stored, if any. */
  async cachedOcspResponse(request: Buffer): Promise<Buffer | undefined> {
    const key = this.ocspRequestKey(request);
    return key === null ? undefined : this.cache.getBytes(key);
  }

  /** Request bytes -> cache key of the certificate asked about; a request sent again (no nonce) is not parsed again. */
  private readonly ocspRequestKeys = new Map<string, string | null>();

  private ocspRequestKey(request: Buffer): string | null {
    const hash = createHash('sha256').update(request).digest('hex');
    const known = this.ocspRequestKeys.get(hash);
    if (known !== undefined) return known;
    let key: string | null = null;
    try {
      const { certIds } = parseOcspRequest(request);
      if (certIds.length === 1) key = ocspKey(certIds[0]!);
    } catch {
      key = null;
    }
    if (this.ocspRequestKeys.size >= MAX_REMEMBERED_OCSP_REQUESTS) this.ocspRequestKeys.delete(this.ocspRequestKeys.keys().next().value!);
    this.ocspRequestKeys.set(hash, key);
    return key;
  }

  /**
   * The validation engine's revocation interface: evidence embedded in the document first; then,
   * unless offline, the cached (or freshly fetched) status of each certificate below the anchor.
   */
  async check(chain: Buffer[], at: Date, options: { embeddedCrls?: Buffer[]; embeddedOcsps?: Buffer[]; offline?: boolean } = {}): Promise<RevocationEvidence> {
    const embedded = await this.checker.check(chain, at, { ...options, offline: true });
    if (embedded.checked || options.offline) return embedded;
    const results: RevocationEvidence[] = [];
    for (let i = 0; i + 1 < chain.length; i++) {
      const { cached, stale, ...evidence } = await this.status(chain[i]!, chain[i + 1]!);
      results.push(stale ? { ...evidence, detail: `${evidence.detail} (stale: the responder could not be reached)` } : { ...evidence, detail: cached ? `${evidence.detail} (cached)` : evidence.detail });
    }
    return combineEvidence(results);
  }

  /** Forgets a certificate's status everywhere, at once (after this service revokes it). */
  async invalidate(certDer: Buffer, issuerDer: Buffer): Promise<void> {
    const key = statusKey(certDer, issuerDer);
    await this.cache.broadcastInvalidation(key);
    await this.cache.delete(`${key}:error`);
    // nor is the responder's earlier response served at /ocsp any more
    for (const algorithm of ['sha1', 'sha256']) await this.cache.delete(ocspKey(certIdFor(certDer, issuerDer, algorithm)));
  }

  /** Finds the issuer of `certDer` among `candidates`. */
  static issuerOf(certDer: Buffer, candidates: Buffer[]): Buffer | undefined {
    try {
      const cert = new X509Certificate(certDer);
      return candidates.find((c) => {
        try {
          const issuer = new X509Certificate(c);
          return cert.checkIssued(issuer) && certificateSignedBy(cert, issuer);
        } catch {
          return false;
        }
      });
    } catch {
      return undefined;
    }
  }
}
