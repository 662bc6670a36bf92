import type { SignatureEntry } from '../pdf/signatures.js';
import { validatePath } from '../pki/path-validate.js';
import { contentOf, parseSignedData } from '../pki/signed-data.js';
import { verifyTimeStampToken } from '../pki/timestamp-token.js';
import { checkByteRange, coverageOf, rangeChunks } from './byte-range.js';
import type { ValidationContext } from './engine.js';
import type { RevocationEvidence, TimestampReport } from './report.js';
import type { RevisionInfo } from './revisions.js';

const iso = (d: Date): string => (Number.isNaN(d.getTime()) ? 'unreadable' : d.toISOString());

export interface TimeAssessment {
  poe: Date;
  timestamps: TimestampReport[];
}

export interface ArchiveStamp {
  revision: number;
  genTime: Date;
}

/** The earliest valid document timestamp made after `revision`: proof that it existed then. */
export function archivePoe(stamps: ArchiveStamp[], revision: number | null): Date | undefined {
  if (revision === null) return undefined;
  const later = stamps.filter((s) => s.revision > revision).map((s) => s.genTime.getTime());
  return later.length ? new Date(Math.min(...later)) : undefined;
}

/**
 * Decides which document timestamps are valid, newest first: a timestamp whose TSA certificate
 * has expired (or been revoked) since is still valid when a later valid document timestamp
 * proves it existed while the certificate was valid. This is what keeps B-LTA documents
 * verifiable for decades, renewal after renewal.
 */
export function archiveTimestamps(bytes: Buffer, entries: SignatureEntry[], revisions: RevisionInfo[], anchors: Buffer[], pool: Buffer[], validationTime: Date): ArchiveStamp[] {
  const stamps: ArchiveStamp[] = [];
  const candidates = entries
    .filter((e) => e.subFilter === 'ETSI.RFC3161' && e.contents && checkByteRange(bytes, e).length === 0)
    .map((e) => ({ entry: e, revision: coverageOf(bytes, e, revisions).revision }))
    .filter((c): c is { entry: SignatureEntry; revision: number } => c.revision !== null)
    .sort((a, b) => b.revision - a.revision);
  for (const { entry, revision } of candidates) {
    try {
      const content = contentOf(rangeChunks(bytes, entry.byteRange!));
      const tokenCerts = parseSignedData(entry.contents!).certificates;
      const result = verifyTimeStampToken(entry.contents!, (alg) => content.digest(alg), [...pool, ...tokenCerts]);
      if (!result.imprintMatches || result.signature.signatureValid !== true || !result.tsaCertificate || !result.tsaCertHasTimeStampingEku) continue;
      const later = archivePoe(stamps, revision);
      const validNow = validatePath(result.tsaCertificate, [...pool, ...tokenCerts], anchors, validationTime).status === 'VALID';
      const validThen = later !== undefined && validatePath(result.tsaCertificate, [...pool, ...tokenCerts], anchors, later).status === 'VALID';
      if (validNow || validThen) stamps.push({ revision, genTime: result.genTime });
    } catch {
      // an unreadable timestamp proves nothing
    }
  }
  return stamps;
}

/** The file's own revocation evidence (/DSS), for the TSA certificates of timestamps too. */
export interface EmbeddedEvidence {
  crls: Buffer[];
  ocsps: Buffer[];
}

/**
 * Validates signature timestamps: imprint, TSA signature, timeStamping EKU, the TSA's path at
 * the validation time (or, when it has expired since, at the time a later document timestamp
 * proves the token existed) and, with a revocation checker, the TSA chain's revocation status:
 * evidence embedded in the file first, for the token's time (its genTime, or that later proof).
 * A token whose TSA status is unknown, or revoked before any proof of the token's existence,
 * proves nothing. The earliest valid token is the signature's proof of existence.
 */
export async function assessTimestamps(
  tokens: Buffer[],
  imprintDigest: (alg: string) => Buffer,
  ctx: Required<Pick<ValidationContext, 'trustAnchors'>> & ValidationContext,
  pool: Buffer[],
  validationTime: Date,
  fallbackPoe: Date | undefined,
  embedded: EmbeddedEvidence = { crls: [], ocsps: [] },
): Promise<TimeAssessment> {
  const timestamps: TimestampReport[] = [];
  let poe = validationTime;
  for (const token of tokens) {
    try {
      const result = verifyTimeStampToken(token, imprintDigest, pool);
      const problems = [...result.problems];
      let tsaTrusted = false;
      let revocation: RevocationEvidence | undefined;
      if (result.tsaCertificate) {
        let path = validatePath(result.tsaCertificate, pool, ctx.trustAnchors, validationTime);
        tsaTrusted = path.status === 'VALID';
        let provenAt = result.genTime;
        if (!tsaTrusted && fallbackPoe) {
          const then = validatePath(result.tsaCertificate, pool, ctx.trustAnchors, fallbackPoe);
          if (then.status === 'VALID') {
            tsaTrusted = true;
            path = then;
            provenAt = fallbackPoe;
            problems.push(`TSA certificate not valid now, but valid at ${fallbackPoe.toISOString()}, when a later document timestamp proves this token existed`);
          }
        }
        if (!tsaTrusted) problems.push(`TSA certificate: ${path.problems.join('; ') || path.status}`);
        if (tsaTrusted && ctx.revocation) {
          revocation = await ctx.revocation.check(path.chain.map((c) => c.der), provenAt, { embeddedCrls: embedded.crls, embeddedOcsps: embedded.ocsps, offline: ctx.offline });
          const verdict = tsaRevocationProblem(revocation, result.genTime, fallbackPoe);
          if (verdict) {
            tsaTrusted = false;
            problems.push(verdict);
          }
        }
      }
      const valid = result.imprintMatches && result.signature.signatureValid === true && result.signature.messageDigestMatches !== false && tsaTrusted && result.tsaCertHasTimeStampingEku;
      if (valid && result.genTime < poe) poe = result.genTime;
      timestamps.push({ kind: 'signature-timestamp', time: iso(result.genTime), valid, tsa: result.tsaCertificate ? summaryOfDer(result.tsaCertificate) : null, ...(revocation ? { revocation } : {}), problems });
    } catch (err) {
      timestamps.push({ kind: 'signature-timestamp', time: '', valid: false, tsa: null, problems: [`the timestamp token cannot be read: ${(err as Error).message}`] });
    }
  }
  return { poe, timestamps };
}

/** RFC 5280 reasons that say nothing against what the key signed before: affiliationChanged, superseded, cessationOfOperation. */
const BENIGN_REASONS = new Set([3, 4, 5]);

/** Why the TSA's revocation status makes a token prove nothing, or undefined when it does not. */
function tsaRevocationProblem(evidence: RevocationEvidence, genTime: Date, laterProof: Date | undefined): string | undefined {
  if (evidence.checked && evidence.status === 'revoked') {
    const revokedAt = evidence.revokedAt ? new Date(evidence.revokedAt) : undefined;
    if (revokedAt && laterProof && laterProof < revokedAt) return undefined;
    if (revokedAt && genTime < revokedAt && evidence.reason !== undefined && BENIGN_REASONS.has(evidence.reason)) return undefined;
    return `TSA certificate revoked${revokedAt ? ` at ${revokedAt.toISOString()}` : ''}, and nothing proves the token existed before: ${evidence.detail}`;
  }
  if (!evidence.checked || evidence.status === 'unknown') return `TSA certificate revocation status unknown: ${evidence.detail}`;
  return undefined;
}

export function summaryOfDer(der: Buffer): string {
  const path = validatePath(der, [], [], new Date());
  return path.chain[0]?.subject ?? 'unknown';
}
