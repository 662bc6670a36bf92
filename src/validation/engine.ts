import { checkDeadline, rethrowIfOutOfTime } from '../pdf/limits/deadline.js';
import { assertWithinBudget } from '../pdf/limits/work-budget.js';
import { createHash } from 'node:crypto';
import { PdfDocument, type PdfLimits } from '../pdf/document.js';
import { PdfError } from '../pdf/errors.js';
import { decodeStream } from '../pdf/filters.js';
import { PdfStream } from '../pdf/objects.js';
import { findSignatures, parsePdfDate, type SignatureEntry } from '../pdf/signatures.js';
import { Asn1Error } from '../pki/asn1.js';
import { CmsError, contentOf, parseSignedData, verifySignerInfo, type SignerVerification } from '../pki/signed-data.js';
import { validatePath, type PathResult } from '../pki/path-validate.js';
import { signatureValueDigest, verifyTimeStampToken } from '../pki/timestamp-token.js';
import { checkByteRange, coverageOf, rangeChunks, signedInPlace } from './byte-range.js';
import { judgeChanges, modificationConstraints } from './change-judgement.js';
import { archivePoe, archiveTimestamps, assessTimestamps } from './timestamps.js';
import { conditionsFor } from './conditions.js';
import { defaultValidationPolicy, judgeSignature, type SignatureFacts, type ValidationPolicy } from './policy.js';
import { analyseRevisions } from './changes/analyse.js';
import { revisionsOf } from './revisions.js';
import { assessSesSignature, nationalSealFacts } from './ses-signature.js';
import { certificateSummary, startReport } from './report-start.js';
import { looksLikeSesSignature } from '../pki/ses/ses-parse.js';
import { SES_SUBFILTER } from '../pki/ses/ses-structures.js';
import type { RevocationChecker } from '../contracts/revocation.js';
import type { SignatureReport, ValidationReport } from './report.js';


export interface ValidationContext {
  trustAnchors: Buffer[];
  /** Extra intermediate certificates to build paths with. */
  intermediates?: Buffer[];
  validationTime?: Date;
  pdfLimits?: PdfLimits;
  revocation?: RevocationChecker;
  /** The password of an encrypted PDF, when the empty user password does not open it. */
  password?: string;
  /** What is accepted (algorithms, key sizes, required attributes); the default policy otherwise. */
  policy?: ValidationPolicy;
  /** Validate from the evidence in the file only: no CRL or OCSP is fetched. */
  offline?: boolean;
  /** Names the registered seal a signer certificate belongs to. */
  lookupSeal?: (certDer: Buffer) => Promise<{ id: string; name: string } | undefined>;
}

const CMS_SUBFILTERS = new Set(['adbe.pkcs7.detached', 'ETSI.CAdES.detached', 'adbe.pkcs7.sha1']);

const iso = (d: Date): string => (Number.isNaN(d.getTime()) ? 'unreadable' : d.toISOString());

/** Decoded streams listed under a key of the /DSS dictionary (certificates, CRLs). */
function dssStreams(doc: PdfDocument, key: 'Certs' | 'CRLs' | 'OCSPs'): Buffer[] {
  try {
    const dss = doc.resolveDict(doc.catalog().get('DSS'));
    const items = doc.resolve(dss?.get(key));
    if (!Array.isArray(items)) return [];
    // Each stream once, however often it is listed: a list may name one object thousands of times.
    const streams = new Set(items.slice(0, 100_000).map((c) => doc.resolve(c)).filter((s): s is PdfStream => s instanceof PdfStream));
    return [...streams].map((s) => decodeStream(s, 32 * 1024 * 1024));
  } catch (err) {
    rethrowIfOutOfTime(err);
    return [];
  }
}

/**
 * Validates every signature and document timestamp of a PDF. Nothing in the file can make this
 * throw anything but a PdfError for a file that cannot be read at all; each signature's problems
 * end up in its report.
 */
export async function validatePdf(bytes: Buffer, ctx: ValidationContext): Promise<ValidationReport> {
  const validationTime = ctx.validationTime ?? new Date();
  const policy = ctx.policy ?? defaultValidationPolicy();
  const doc = PdfDocument.load(bytes, ctx.pdfLimits, { password: ctx.password });
  const revisions = revisionsOf(doc);
  const entries = findSignatures(doc);
  const dssCerts = dssStreams(doc, 'Certs');
  const dssCrls = dssStreams(doc, 'CRLs');
  const dssOcsps = dssStreams(doc, 'OCSPs');
  const stamps = archiveTimestamps(bytes, entries, revisions, ctx.trustAnchors, [...dssCerts, ...(ctx.intermediates ?? [])], validationTime);
  const reports: SignatureReport[] = [];
  const pending: Array<{ report: SignatureReport; entry: SignatureEntry; decision: SignatureFacts }> = [];
  let maxCoveredEnd = 0;

  for (const entry of entries) {
    checkDeadline();
    const problems: string[] = [];
    const isDocTimestamp = entry.subFilter === 'ETSI.RFC3161';
    const structure = checkByteRange(bytes, entry);
    problems.push(...structure);
    const byteRangeValid = structure.length === 0;
    const cover = byteRangeValid ? coverageOf(bytes, entry, revisions) : { revision: null, coverage: 'invalid' as const, end: 0 };
    if (byteRangeValid) maxCoveredEnd = Math.max(maxCoveredEnd, cover.end);
    if (cover.coverage === 'partial') problems.push('the signed ranges do not end at the end of a revision: part of the signed revision is not covered');

    const report = startReport({
      fieldName: entry.fieldName,
      kind: isDocTimestamp ? 'document-timestamp' : 'signature',
      subFilter: entry.subFilter ?? null,
      claimedSigningTime: ((d) => (d && !Number.isNaN(d.getTime()) ? d.toISOString() : null))(parsePdfDate(entry.claimedTime)),
      proofOfExistence: validationTime.toISOString(),
      byteRange: entry.byteRange ?? null,
      revision: cover.revision,
      coverage: cover.coverage,
      byteRangeValid,
      problems,
    });

    let verification: SignerVerification | undefined;
    let signerDer: Buffer | null = null;
    let pool: Buffer[] = [...dssCerts, ...(ctx.intermediates ?? [])];
    const laterProof = archivePoe(stamps, cover.revision);
    const provenByLater = laterProof && laterProof < validationTime ? laterProof : undefined;
    let poe = provenByLater ?? validationTime;
    // The time the signer's revocation status must hold for: the POE; for a document timestamp
    // with no later proof, its own genTime (its TSA path must then be valid at validation time).
    let revocationAt: Date | undefined;
    let formatFailure = !byteRangeValid;
    let nationalSeal: SignatureFacts['nationalSeal'];
    if (cover.revision !== null && !signedInPlace(doc, cover.revision, entry)) {
      formatFailure = true;
      problems.push(`the signature dictionary is not part of the revision it signs (revision ${cover.revision}): it was added later with the values of a signature made elsewhere`);
    }

    if (byteRangeValid && entry.contents) {
      const content = contentOf(rangeChunks(bytes, entry.byteRange!));
      try {
        if (isDocTimestamp) {
          const result = verifyTimeStampToken(entry.contents, (alg) => content.digest(alg), pool);
          verification = result.signature;
          pool = [...pool, ...parseSignedData(entry.contents).certificates];
          signerDer = result.tsaCertificate;
          report.integrity.messageDigestMatches = result.imprintMatches && result.signature.messageDigestMatches !== false;
          report.timestampTime = iso(result.genTime);
          if (!provenByLater && result.genTime <= validationTime) revocationAt = result.genTime;
          problems.push(...result.problems);
        } else if (entry.subFilter === SES_SUBFILTER || looksLikeSesSignature(entry.contents)) {
          // A GB/T 38540 seal signature, under the service's sub-filter or in place of a CMS.
          const ses = assessSesSignature(entry.contents, content.digest('sm3'), pool, ctx.trustAnchors, validationTime);
          verification = ses.verification;
          signerDer = ses.signerDer;
          pool = [...pool, ...ses.makerChain];
          report.nationalSeal = ses.report;
          report.integrity.messageDigestMatches = verification.messageDigestMatches;
          problems.push(...verification.problems);
          const times = await assessTimestamps(verification.timestampTokens, signatureValueDigest(ses.signatureValue), ctx, pool, validationTime, laterProof, { crls: dssCrls, ocsps: dssOcsps });
          report.timestamps = times.timestamps;
          if (times.poe < poe) poe = times.poe;
          report.timestampTime = times.timestamps.filter((t) => t.valid).map((t) => t.time).sort()[0] ?? null;
          if (!report.claimedSigningTime && verification.claimedSigningTime) report.claimedSigningTime = iso(verification.claimedSigningTime);
          nationalSeal = await nationalSealFacts(ses, ctx.revocation, poe, { embeddedCrls: dssCrls, embeddedOcsps: dssOcsps, offline: ctx.offline });
        } else if (entry.subFilter && CMS_SUBFILTERS.has(entry.subFilter)) {
          const parsed = parseSignedData(entry.contents);
          const signer = parsed.signers[0]!;
          if (parsed.signers.length > 1) problems.push(`the CMS has ${parsed.signers.length} signers; the first is validated`);
          pool = [...pool, ...parsed.certificates];
          verification = verifySignerInfo(parsed, signer, content, pool);
          signerDer = verification.signerCertificate;
          report.integrity.messageDigestMatches = verification.messageDigestMatches;
          problems.push(...verification.problems);
          const times = await assessTimestamps(verification.timestampTokens, signatureValueDigest(signer.signature), { ...ctx, trustAnchors: ctx.trustAnchors }, pool, validationTime, laterProof, { crls: dssCrls, ocsps: dssOcsps });
          report.timestamps = times.timestamps;
          if (times.poe < poe) poe = times.poe;
          const best = times.timestamps.filter((t) => t.valid).map((t) => t.time).sort()[0];
          report.timestampTime = best ?? null;
          report.integrity.signedAttributesOrder = verification.signedAttrsReordered ? 'as-sent' : 'der';
        } else {
          formatFailure = true;
          problems.push(`sub-filter ${entry.subFilter ?? '(none)'} is not supported`);
        }
      } catch (err) {
        // Whatever a hostile signature makes the decoders throw is a format failure of that
        // signature, never a failure of the whole request (unless a limit of the request ran out).
        rethrowIfOutOfTime(err);
        formatFailure = true;
        const reason = err instanceof CmsError || err instanceof PdfError || err instanceof Asn1Error ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
        problems.push(`the signature cannot be decoded: ${reason}`);
      }
    } else if (byteRangeValid) {
      formatFailure = true;
      problems.push('the signature has no /Contents');
    }

    if (verification) {
      report.integrity.signatureValid = verification.signatureValid;
      const ref = verification.signingCertificateAttribute;
      report.integrity.signingCertificateReference = ref.version === null ? 'absent' : ref.matches === false ? 'mismatch' : 'matches';
      report.algorithms = {
        digest: verification.digestAlgorithm ?? null,
        signature: `${verification.signatureAlgorithm.name}${verification.signatureAlgorithm.hash ? ` with ${verification.signatureAlgorithm.hash}` : ''}`,
        weak: verification.weakAlgorithms,
      };
    }

    let path: PathResult | undefined;
    if (signerDer) {
      path = validatePath(signerDer, pool, ctx.trustAnchors, validationTime);
      if ((path.status === 'EXPIRED' || path.status === 'NOT_YET_VALID') && poe < validationTime) {
        const atPoe = validatePath(signerDer, pool, ctx.trustAnchors, poe);
        if (atPoe.status === 'VALID') path = { ...atPoe, problems: [...path.problems.map((p) => `${p} (accepted: proof of existence at ${poe.toISOString()})`)] };
      }
      report.signer = path.chain[0] ? certificateSummary(path.chain[0]) : null;
      report.certificatePath = { status: path.status, trustAnchorReached: path.trustAnchorReached, chain: path.chain.map(certificateSummary) };
      problems.push(...path.problems);
      if (ctx.lookupSeal) report.seal = (await ctx.lookupSeal(signerDer)) ?? null;
      if (path.trustAnchorReached) {
        report.revocation = ctx.revocation
          ? await ctx.revocation.check(path.chain.map((c) => c.der), revocationAt ?? poe, { embeddedCrls: dssCrls, embeddedOcsps: dssOcsps, offline: ctx.offline })
          : { checked: false, detail: 'revocation status was not checked: no certificate-status service is configured' };
      }
    }
    report.proofOfExistence = poe.toISOString();

    pending.push({ report, entry, decision: { formatFailure, verification, signerDer, path, poe, validationTime, ...(nationalSeal ? { nationalSeal } : {}) } });
  }

  // Changes after signing are judged once every signature is known: under a certification, a
  // later signature is permitted only if it validates itself.
  const steps = pending.length > 0 ? analyseRevisions(doc) : [];
  const constraints = modificationConstraints(doc, pending);
  for (const { report, entry, decision } of pending) {
    const certified = constraints.certification?.field === entry.fieldName ? constraints.certification : undefined;
    if (certified) report.certification = { permission: certified.permission };
    else if (entry.docMdpPermission) report.problems.push('the signature carries a DocMDP reference, but the document catalog does not name it as the certification (/Perms /DocMDP): it certifies nothing');
    if (report.revision !== null) judgeChanges(report, steps, constraints);
    const { verdict, failed } = judgeSignature(policy, report, decision);
    [report.indication, report.subIndication] = verdict;
    report.failedConstraint = failed ?? null;
    if (failed) report.problems.push(`policy "${policy.name}": ${failed.detail} (${failed.constraint})`);
    report.conditions = conditionsFor(report, decision.verification, decision.path);
    reports.push(report);
  }

  // Limits that ran out where a check turned the error into a verdict still end the request.
  checkDeadline();
  assertWithinBudget();

  let trimmedLength = bytes.length;
  while (trimmedLength > 0 && [0x0a, 0x0d, 0x20, 0x00].includes(bytes[trimmedLength - 1]!)) trimmedLength--;
  const lastRevisionEnd = revisions[revisions.length - 1]?.end ?? bytes.length;
  const unsignedChangesAtEnd = entries.length > 0 && maxCoveredEnd < Math.min(trimmedLength, lastRevisionEnd) - 2;
  // After the last signed revision: only validation data and the like (what B-LTA writes after its
  // document timestamp), or something more?
  const lastSigned = revisions.filter((r) => r.end <= maxCoveredEnd + 2).length - 1;
  const onlyValidationDataAfter = steps.slice(Math.max(lastSigned, 0) + 1).every((step) => step.every((c) => c.need === 'always'));
  const passed = reports.filter((r) => r.indication === 'TOTAL_PASSED').length;
  return {
    validationTime: validationTime.toISOString(),
    policy: policy.name,
    document: {
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      revisions: revisions.length,
      signatures: reports.length,
      passed,
      unsignedChangesAtEnd,
      structure: { reconstructed: doc.reconstructed, repaired: doc.repaired, unreadableObjects: [...doc.unreadable].sort((a, b) => a - b).slice(0, 100), encrypted: doc.encrypted },
      summary: [
        reports.length === 0 ? 'the document has no signatures' : `${passed} of ${reports.length} signature(s) passed`,
        ...(unsignedChangesAtEnd && reports.length > 0
          ? [onlyValidationDataAfter ? 'validation data (or metadata) was added after its last signature' : 'the document has changes after its last signature']
          : []),
        ...(doc.reconstructed ? ['its cross-reference data was damaged and had to be rebuilt by scanning the file'] : doc.repaired ? ['some objects were not where its cross-reference table said and were found by scanning'] : []),
        ...(doc.unreadable.size > 0 ? [`${doc.unreadable.size} object(s) could not be read`] : []),
      ].join('; '),
    },
    signatures: reports,
  };
}

