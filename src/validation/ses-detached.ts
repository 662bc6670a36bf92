/**
 * Verifying a GB/T 38540 seal signature on its own (`POST /v1/ses/verify`): against a document
 * (any format: OFD, an XML, a file) or the SM3 hash of one. The signature is judged by the same
 * facts, policy and art. 13 conditions as a seal signature inside a PDF, with the given data
 * in place of the PDF's byte ranges: the report has the shape of a PDF signature's report, with
 * no byte range, no revision and no changes after signing.
 */
import { createHash } from 'node:crypto';
import { validatePath, type PathCertificate } from '../pki/path-validate.js';
import { signatureValueDigest } from '../pki/timestamp-token.js';
import { conditionsFor } from './conditions.js';
import type { ValidationContext } from './engine.js';
import { defaultValidationPolicy, judgeSignature } from './policy.js';
import type { CertificateSummary, SignatureReport, StatutoryConditions } from './report.js';
import { assessSesSignature } from './ses-signature.js';
import { assessTimestamps } from './timestamps.js';

const summary = (c: PathCertificate): CertificateSummary => ({ subject: c.subject, issuer: c.issuer, serialNumber: c.serialHex, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() });

/** The signed data, or its SM3 hash (32 bytes). */
export type SesSignedInput = { data: Buffer } | { sm3: Buffer };

export async function verifyDetachedSes(signature: Buffer, signed: SesSignedInput, ctx: ValidationContext): Promise<SignatureReport> {
  const validationTime = ctx.validationTime ?? new Date();
  const dataHash = 'sm3' in signed ? signed.sm3 : createHash('sm3').update(signed.data).digest();
  const ses = assessSesSignature(signature, dataHash, ctx.intermediates ?? [], ctx.trustAnchors, validationTime);
  const pool = [...(ctx.intermediates ?? []), ...ses.makerChain];
  const report: SignatureReport = {
    fieldName: '',
    kind: 'signature',
    subFilter: null,
    signer: null,
    seal: ctx.lookupSeal ? ((await ctx.lookupSeal(ses.signerDer)) ?? null) : null,
    nationalSeal: ses.report,
    claimedSigningTime: ses.verification.claimedSigningTime?.toISOString() ?? null,
    timestampTime: null,
    proofOfExistence: validationTime.toISOString(),
    byteRange: null,
    revision: null,
    coverage: 'entire-file',
    coversWholeFile: true,
    certification: null,
    integrity: { byteRangeValid: true, messageDigestMatches: ses.verification.messageDigestMatches, signatureValid: ses.verification.signatureValid, signingCertificateReference: 'absent', signedAttributesOrder: 'der' },
    algorithms: { digest: 'sm3', signature: 'SM2 with sm3', weak: [] },
    certificatePath: { status: 'NOT_CHECKED', trustAnchorReached: false, chain: [] },
    revocation: { checked: false, detail: 'not checked' },
    timestamps: [],
    changesAfterSigning: { permitted: true, changes: [] },
    indication: 'INDETERMINATE',
    subIndication: null,
    failedConstraint: null,
    conditions: undefined as unknown as StatutoryConditions,
    problems: [...ses.verification.problems],
  };
  const times = await assessTimestamps(ses.verification.timestampTokens, signatureValueDigest(ses.signatureValue), ctx, pool, validationTime, undefined);
  report.timestamps = times.timestamps;
  report.timestampTime = times.timestamps.filter((t) => t.valid).map((t) => t.time).sort()[0] ?? null;
  const poe = times.poe;
  report.proofOfExistence = poe.toISOString();

  const path = validatePath(ses.signerDer, pool, ctx.trustAnchors, validationTime);
  report.signer = path.chain[0] ? summary(path.chain[0]) : null;
  report.certificatePath = { status: path.status, trustAnchorReached: path.trustAnchorReached, chain: path.chain.map(summary) };
  report.problems.push(...path.problems);
  let makerRevoked = false;
  if (ctx.revocation) {
    const evidence = { offline: ctx.offline };
    if (path.trustAnchorReached) report.revocation = await ctx.revocation.check(path.chain.map((c) => c.der), poe, evidence);
    if (ses.report.makerTrusted) {
      const maker = await ctx.revocation.check(ses.makerChain, poe, evidence);
      ses.report.makerRevocation = maker;
      makerRevoked = maker.checked && maker.status === 'revoked' && (!maker.revokedAt || new Date(maker.revokedAt) <= poe);
    }
  } else {
    report.revocation = { checked: false, detail: 'revocation status was not checked: no certificate-status service is configured' };
  }
  const facts = { formatFailure: false, verification: ses.verification, signerDer: ses.signerDer, path, poe, validationTime, nationalSeal: { verdict: ses.sealVerdict, makerTrusted: ses.report.makerTrusted, makerRevoked } };
  const policy = ctx.policy ?? defaultValidationPolicy();
  const { verdict, failed } = judgeSignature(policy, report, facts);
  [report.indication, report.subIndication] = verdict;
  report.failedConstraint = failed ?? null;
  if (failed) report.problems.push(`policy "${policy.name}": ${failed.detail} (${failed.constraint})`);
  report.conditions = conditionsFor(report, ses.verification, path);
  return report;
}
