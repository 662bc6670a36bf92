import { createHash } from 'node:crypto';
import type { SignatureReport, SubIndication, ValidationReport } from '../validation/report.js';
import type { LicenseRecord } from './issuance.js';

export type LicenseVerdict = 'authentic' | 'untrusted' | 'signature-invalid' | 'document-altered' | 'not-in-registry' | 'not-yet-valid' | 'revoked' | 'superseded' | 'expired';

/** What the registry must answer for a file to be matched to a licence. */
export interface LicenseRegistry {
  findBySha256(sha256: string): Promise<LicenseRecord | undefined>;
  currentVersion(id: string): Promise<LicenseRecord | undefined>;
}

export interface LicenseFileJudgement {
  verdict: LicenseVerdict;
  /** One sentence for the person who uploaded the file; never a revocation reason. */
  detail: string;
  /** The licence whose issued file is a revision of the upload. */
  record: LicenseRecord | undefined;
  /** The version in force when `record` was superseded (the end of the replacement chain). */
  current: LicenseRecord | undefined;
  /** Index in `report.signatures` of the issuing seal's signature, when the file matched. */
  issuingSignature: number | undefined;
}

/** Sub-indications that mean the signer's certificate does not lead to a trusted authority. */
const UNTRUSTED: ReadonlySet<SubIndication> = new Set(['NO_CERTIFICATE_CHAIN_FOUND', 'NO_SIGNING_CERTIFICATE_FOUND', 'CHAIN_CONSTRAINTS_FAILURE']);

/** The end of the revision a signature signs (its byte range's end), when the range is sound. */
function signedRevisionEnd(pdf: Buffer, signature: SignatureReport): number | undefined {
  const range = signature.byteRange;
  if (signature.kind !== 'signature' || !signature.integrity.byteRangeValid || !range || range.length !== 4 || range[0] !== 0) return undefined;
  const end = range[2]! + range[3]!;
  return Number.isSafeInteger(end) && end > 0 && end <= pdf.length ? end : undefined;
}

/** A file signed by many seals needs no more registry look-ups than this. */
const MAX_LOOKUPS = 16;

/**
 * The bytes a signature seals are the file from its start to the end of its byte range: the
 * revision it signed, its own /Contents included. For the issuing seal that revision is exactly the
 * file the registry recorded, whatever was appended later (B-LT/B-LTA evidence, countersignatures).
 * Only signatures by a registered seal are candidates. The revisions are prefixes of one another,
 * so one running hash serves them all: hashing costs the file's size once, however many
 * signatures it holds.
 */
export function signedRevisionDigests(pdf: Buffer, report: ValidationReport): Array<{ index: number; sha256: string }> {
  const candidates = report.signatures
    .map((signature, index) => ({ index, signature, end: signedRevisionEnd(pdf, signature) }))
    .filter((c): c is { index: number; signature: SignatureReport; end: number } => c.end !== undefined && c.signature.seal !== null)
    .sort((a, b) => a.end - b.end);
  const hash = createHash('sha256');
  let hashed = 0;
  const digests: Array<{ index: number; sha256: string }> = [];
  for (const { index, end } of candidates) {
    hash.update(pdf.subarray(hashed, end));
    hashed = end;
    digests.push({ index, sha256: hash.copy().digest('hex') });
  }
  return digests.sort((a, b) => a.index - b.index);
}

/** The first signature whose signed revision is a licence of the registry, sealed by that licence's seal. */
async function findIssuingSignature(pdf: Buffer, report: ValidationReport, registry: LicenseRegistry): Promise<{ index: number; record: LicenseRecord } | undefined> {
  const seen = new Set<string>();
  for (const { index, sha256 } of signedRevisionDigests(pdf, report)) {
    if (seen.has(sha256)) continue;
    if (seen.size >= MAX_LOOKUPS) break;
    seen.add(sha256);
    const record = await registry.findBySha256(sha256);
    if (record && report.signatures[index]!.seal?.id === record.sealId) return { index, record };
  }
  return undefined;
}

/**
 * Why what was appended after issue changes the licence a person sees: changes the validator does
 * not permit, and, stricter than for documents in general, anything drawn over the page after
 * issue (an annotation, or the appearance of a later signature that does not verify), which can
 * cover a printed value while every signature stays intact.
 */
function alterationsAfterIssue(report: ValidationReport, issuing: SignatureReport): string[] {
  const reasons: string[] = [];
  for (const change of issuing.changesAfterSigning.changes) {
    if (!change.permitted) reasons.push(change.reason ?? change.description);
    else if (change.overlay && change.category !== 'signing') reasons.push(`drawn over the licence after issue: ${change.description}`);
    else if (change.overlay) {
      const signer = report.signatures.find((s) => s.revision === change.revision && s.kind === 'signature');
      if (signer?.indication !== 'TOTAL_PASSED') reasons.push(`a signature that does not verify was drawn over the licence after issue: ${change.description}`);
    }
  }
  return [...new Set(reasons)];
}

/** What the later signatures and timestamps say of themselves, for the detail of a matched licence. */
function laterSignaturesNote(report: ValidationReport, issuing: number): string {
  const later = report.signatures.slice(issuing + 1);
  if (later.length === 0) return '';
  const failing = later.filter((s) => s.indication !== 'TOTAL_PASSED');
  if (failing.length === 0) return `; ${later.length} later signature(s) or timestamp(s) added after issue verify`;
  return `; ${failing.length} of ${later.length} later signature(s) or timestamp(s) do not verify (${failing.map((s) => `${s.fieldName}: ${s.subIndication ?? s.indication}`).join(', ')}), which does not change the licence as issued`;
}

function statusDetail(record: LicenseRecord, current: LicenseRecord | undefined): string {
  switch (record.status) {
    case 'revoked':
      return `issued here and unaltered, but revoked on ${record.revokedAt?.slice(0, 10) ?? 'an earlier date'}`;
    case 'superseded':
      return current && current.id !== record.id ? `issued here and unaltered, but replaced; the version in force is ${current.id}` : 'issued here and unaltered, but replaced';
    case 'not-yet-valid':
      return `issued here and unaltered, but valid only from ${record.validFrom}`;
    case 'expired':
      return `issued here and unaltered, but valid until ${record.validUntil}`;
    default:
      return 'issued here, unaltered and currently valid';
  }
}

/**
 * Judges an uploaded licence file from the verification report and the registry. A file matches a
 * licence when one of its signatures, made by the licence's issuing seal, signs exactly the issued
 * file; what was appended after that must be permitted (security extensions, further signatures),
 * and later signatures keep their own results in the report.
 */
export async function judgeLicenseFile(pdf: Buffer, report: ValidationReport, registry: LicenseRegistry): Promise<LicenseFileJudgement> {
  const signatures = report.signatures.filter((s) => s.kind === 'signature');
  const none = { record: undefined, current: undefined, issuingSignature: undefined };
  if (signatures.length === 0) return { verdict: 'not-in-registry', detail: 'the file carries no seal', ...none };

  const match = await findIssuingSignature(pdf, report, registry);
  if (match) {
    const { index, record } = match;
    const issuing = report.signatures[index]!;
    const current = record.status === 'superseded' ? await registry.currentVersion(record.id) : undefined;
    const base = { record, current, issuingSignature: index };
    const alterations = alterationsAfterIssue(report, issuing);
    if (alterations.length > 0) {
      return { verdict: 'document-altered', detail: `the licence was issued here, but the file was changed afterwards in a way that is not permitted: ${alterations.slice(0, 3).join('; ')}`, ...base };
    }
    if (issuing.indication === 'TOTAL_FAILED') return { verdict: 'signature-invalid', detail: `the issuing seal's signature fails: ${issuing.subIndication ?? 'unknown reason'}`, ...base };
    const verdict: LicenseVerdict = record.status === 'valid' ? 'authentic' : record.status;
    return { verdict, detail: `${statusDetail(record, current)}${laterSignaturesNote(report, index)}`, ...base };
  }

  if (signatures.some((s) => s.subIndication === 'HASH_FAILURE' || !s.changesAfterSigning.permitted || s.coverage === 'partial')) {
    return { verdict: 'document-altered', detail: 'the content was changed after a seal was applied', ...none };
  }
  if (signatures.some((s) => s.indication === 'TOTAL_FAILED')) {
    return { verdict: 'signature-invalid', detail: signatures.map((s) => s.subIndication).filter(Boolean).join(', '), ...none };
  }
  const untrusted = signatures.filter((s) => !s.certificatePath.trustAnchorReached || (s.subIndication !== null && UNTRUSTED.has(s.subIndication)));
  if (untrusted.length > 0) {
    return { verdict: 'untrusted', detail: `the certificate of ${untrusted.map((s) => s.fieldName).join(', ')} does not lead to an authority this service trusts: who applied the seal cannot be established, and the file is not a licence issued here`, ...none };
  }
  const passed = signatures.every((s) => s.indication === 'TOTAL_PASSED');
  const detail = passed ? 'the seals verify, but no sealed revision of this file is a licence issued here' : `no sealed revision of this file is a licence issued here (the seals could not be fully checked: ${signatures.map((s) => s.subIndication ?? s.indication).join(', ')})`;
  return { verdict: 'not-in-registry', detail, ...none };
}
