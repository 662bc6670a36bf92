import { createHash, X509Certificate } from 'node:crypto';
import { readCertFields } from '../pki/cert-fields.js';
import type { RevocationChecker } from '../validation/engine.js';
import type { RevocationEvidence } from '../validation/report.js';
import type { CachedStatus, StatusCache } from './cache.js';
import { certIdFor, parseOcspRequest, publicKeyBits, type CertId } from './ocsp.js';

const ocspKey = (id: CertId): string => `${id.hashAlgorithm}:${id.issuerNameHash.toString('hex')}:${id.issuerKeyHash.toString('hex')}:${id.serialHex}`;
import { combineEvidence, type StatusChecker } from './status-checker.js';

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
  return `${createHash('sha256').update(publicKeyBits(issuerDer)).digest('hex').slice(0, 32)}:${readCertFields(certDer).serialHex}`;
}

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
    const key = statusKey(certDer, issuerDer);
    const now = Date.now();
    const hit = await this.cache.get(key);
    if (hit && hit.freshUntil > now) {
      this.onLookup?.(true);
      return { ...hit.evidence, cached: true, stale: false };
    }
    this.onLookup?.(false);
    const recentError = await this.cache.get(`${key}:error`);
    const fresh = recentError && recentError.freshUntil > now ? recentError : await this.fetch(key, certDer, issuerDer);
    if (fresh.evidence.checked) return { ...fresh.evidence, cached: fresh === recentError, stale: false };
    if (hit && hit.evidence.checked && now - hit.freshUntil < this.options.staleGraceMs) return { ...hit.evidence, cached: true, stale: true };
    return { ...fresh.evidence, cached: fresh === recentError, stale: false };
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
    const value: CachedStatus = { evidence, fetchedAt: now, freshUntil };
    await this.cache.set(key, value, freshUntil - now + this.options.staleGraceMs);
    await this.cache.delete(`${key}:error`);
    if (ocsp?.evidence.checked && freshUntil > now) {
      // The responder's own signed answer, for OCSP clients of this service (`/ocsp`).
      const raw: CachedStatus = { evidence: { checked: true, detail: 'original OCSP response', ocspResponse: ocsp.der.toString('base64') }, fetchedAt: now, freshUntil };
      for (const algorithm of ['sha1', 'sha256']) await this.cache.set(`ocsp:${ocspKey(certIdFor(certDer, issuerDer, algorithm))}`, raw, freshUntil - now);
    }
    return value;
  }

  /** A cached, still fresh original OCSP response for this request's certificate, if any. */
  async cachedOcspResponse(request: Buffer): Promise<Buffer | undefined> {
    let id: CertId;
    try {
      const { certIds } = parseOcspRequest(request);
      if (certIds.length !== 1) return undefined;
      id = certIds[0]!;
    } catch {
      return undefined;
    }
    const hit = await this.cache.get(`ocsp:${ocspKey(id)}`);
    if (!hit || hit.freshUntil <= Date.now() || !hit.evidence.ocspResponse) return undefined;
    return Buffer.from(hit.evidence.ocspResponse, 'base64');
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
  }

  /** Finds the issuer of `certDer` among `candidates`. */
  static issuerOf(certDer: Buffer, candidates: Buffer[]): Buffer | undefined {
    try {
      const cert = new X509Certificate(certDer);
      return candidates.find((c) => {
        try {
          const issuer = new X509Certificate(c);
          return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
        } catch {
          return false;
        }
      });
    } catch {
      return undefined;
    }
  }
}
