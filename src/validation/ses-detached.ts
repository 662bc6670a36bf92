/**
 * Verifying a GB/T 38540 seal signature on its own (`POST /v1/ses/verify`): against a document
 * (any format: OFD, an XML, a file) or the SM3 hash of one. The signature is judged by the same
 * facts, policy and art. 13 conditions as a seal signature inside a PDF, with the given data
 * in place of the PDF's byte ranges: the report has the shape of a PDF signature's report, with
 * no byte range, no revision and no changes after signing.
 */
import { createHash } from 'node:crypto';
import { validatePath } from '../pki/path-validate.js';
import { signatureValueDigest } from '../pki/timestamp-token.js';
import { conditionsFor } from './conditions.js';
import type { ValidationContext } from './engine.js';
import { defaultValidationPolicy, judgeSignature } from './policy.js';
import type { SignatureReport } from './report.js';
import { certificateSummary, startReport } from './report-start.js';
import { assessSesSignature, nationalSealFacts } from './ses-signature.js';
import { assessTimestamps } from './timestamps.js';


/** The signed data, or its SM3 hash (32 bytes). */
export type SesSignedInput = { data: Buffer } | { sm3: Buffer };

export async function verifyDetachedSes(signature: Buffer, signed: SesSignedInput, ctx: ValidationContext): Promise<SignatureReport> {
  const validationTime = ctx.validationTime ?? new Date();
  const dataHash = 'sm3' in signed ? signed.sm3 : createHash('sm3').update(signed.data).digest();
  const ses = assessSesSignature(signature, dataHash, ctx.intermediates ?? [], ctx.trustAnchors, validationTime);
  const pool = [...(ctx.intermediates ?? []), ...ses.makerChain];
  const report = startReport({
    fieldName: '',
    kind: 'signature',
    subFilter: null,
    claimedSigningTime: ses.verification.claimedSigningTime?.toISOString() ?? null,
    proofOfExistence: validationTime.toISOString(),
    byteRange: null,
    revision: null,
    coverage: 'entire-file',
    byteRangeValid: true,
    problems: [...ses.verification.problems],
  });
  report.seal = ctx.lookupSeal ? ((await ctx.lookupSeal(ses.signerDer)) ?? null) : null;
  report.nationalSeal = ses.report;
  report.integrity.messageDigestMatches = ses.verification.messageDigestMatches;
  report.integrity.signatureValid = ses.verification.signatureValid;
  report.algorithms = { digest: 'sm3', signature: 'SM2 with sm3', weak: [] };
  const times = await assessTimestamps(ses.verification.timestampTokens, signatureValueDigest(ses.signatureValue), ctx, pool, validationTime, undefined);
  report.timestamps = times.timestamps;
  report.timestampTime = times.timestamps.filter((t) => t.valid).map((t) => t.time).sort()[0] ?? null;
  const poe = times.poe;
  report.proofOfExistence = poe.toISOString();

  const path = validatePath(ses.signerDer, pool, ctx.trustAnchors, validationTime);
  report.signer = path.chain[0] ? certificateSummary(path.chain[0]) : null;
  report.certificatePath = { status: path.status, trustAnchorReached: path.trustAnchorReached, chain: path.chain.map(certificateSummary) };
  report.problems.push(...path.problems);
  if (!ctx.revocation) report.revocation = { checked: false, detail: 'revocation status was not checked: no certificate-status service is configured' };
  else if (path.trustAnchorReached) report.revocation = await ctx.revocation.check(path.chain.map((c) => c.der), poe, { offline: ctx.offline });
  const nationalSeal = await nationalSealFacts(ses, ctx.revocation, poe, { offline: ctx.offline });
  const facts = { formatFailure: false, verification: ses.verification, signerDer: ses.signerDer, path, poe, validationTime, nationalSeal };
  const policy = ctx.policy ?? defaultValidationPolicy();
  const { verdict, failed } = judgeSignature(policy, report, facts);
  [report.indication, report.subIndication] = verdict;
  report.failedConstraint = failed ?? null;
  if (failed) report.problems.push(`policy "${policy.name}": ${failed.detail} (${failed.constraint})`);
  report.conditions = conditionsFor(report, ses.verification, path);
  return report;
}
