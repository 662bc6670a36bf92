/**
 * A GB/T 38540 (or GM/T 0031) seal signature found in a PDF's /Contents, turned into the facts
 * the validation engine judges: the signer verification (signature value, data hash over the
 * byte ranges), the signer's certificate, and the national seal's own report (its properties,
 * each named check, the maker's certificate path). The policy (policy.ts) decides the verdict
 * from `sealVerdict`.
 */
import { validatePath } from '../pki/path-validate.js';
import { parseSesSignature } from '../pki/ses/ses-parse.js';
import type { SesCheck } from '../pki/ses/ses-verify.js';
import { verifySesSignature } from '../pki/ses/ses-verify.js';
import type { SignerVerification } from '../pki/signed-data.js';
import type { RevocationChecker } from '../contracts/revocation.js';
import type { FailedConstraint, SignatureFacts, Verdict } from './policy.js';
import type { NationalSealReport } from './report.js';

export interface SesFindings {
  verification: SignerVerification;
  signerDer: Buffer;
  /** The seal maker's certificate path (maker first), for the pool and its revocation check. */
  makerChain: Buffer[];
  signatureValue: Buffer;
  timeStamp: Buffer | null;
  report: NationalSealReport;
  /** What the seal's own checks decide, when one of them fails; evaluated after the signature value. */
  sealVerdict?: { verdict: Verdict; failed: FailedConstraint };
}

const failedCheck = (checks: SesCheck[], name: SesCheck['name']): SesCheck | undefined => checks.find((c) => c.name === name && !c.passed);

/** The verdict of the first failed seal check, in order of gravity: a forged seal, a signer the seal does not name, a seal used outside its period. */
function sealVerdict(checks: SesCheck[]): SesFindings['sealVerdict'] {
  const maker = failedCheck(checks, 'seal-maker-signature');
  if (maker) return { verdict: ['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE'], failed: { constraint: 'nationalSeal.makerSignature', detail: maker.detail } };
  const listed = failedCheck(checks, 'seal-certificate-listed');
  if (listed) return { verdict: ['TOTAL_FAILED', 'SIG_CONSTRAINTS_FAILURE'], failed: { constraint: 'nationalSeal.certificateListed', detail: listed.detail } };
  const validity = failedCheck(checks, 'seal-validity');
  if (validity) return { verdict: ['TOTAL_FAILED', 'SIG_CONSTRAINTS_FAILURE'], failed: { constraint: 'nationalSeal.validity', detail: `at the signing time: ${validity.detail}` } };
  const extension = failedCheck(checks, 'seal-extensions');
  if (extension) return { verdict: ['INDETERMINATE', 'SIG_CONSTRAINTS_FAILURE'], failed: { constraint: 'nationalSeal.extensions', detail: extension.detail } };
  return undefined;
}

/**
 * Reads and checks an SES_Signature over the signed byte ranges (whose SM3 hash is
 * `dataHash`). Throws Asn1Error when the structure cannot be read (a format failure).
 */
export function assessSesSignature(contents: Buffer, dataHash: Buffer, pool: Buffer[], trustAnchors: Buffer[], validationTime: Date): SesFindings {
  const ses = parseSesSignature(contents, true);
  const checked = verifySesSignature(ses, { hash: dataHash });
  const passed = (name: SesCheck['name']): boolean => !failedCheck(checked.checks, name);
  const signingTime = checked.signingTime ?? validationTime;
  const makerPath = validatePath(ses.seal.makerCertificate, pool, trustAnchors, signingTime < validationTime ? signingTime : validationTime);
  const maker = makerPath.chain[0];
  const { info } = ses.seal;
  const verification: SignerVerification = {
    signerCertificate: ses.signerCertificate,
    digestAlgorithm: 'sm3',
    messageDigestMatches: passed('data-hash'),
    signatureValid: passed('signature-value'),
    signatureAlgorithm: { name: 'SM2', hash: 'sm3' },
    unsupportedAlgorithm: undefined,
    weakAlgorithms: [],
    signingCertificateAttribute: { version: null, matches: null },
    signedAttrsReordered: false,
    claimedSigningTime: ses.signedAt,
    timestampTokens: ses.timeStamp ? [ses.timeStamp] : [],
    problems: checked.checks.filter((c) => !c.passed).map((c) => `national seal, ${c.name}: ${c.detail}`),
  };
  if (!makerPath.trustAnchorReached) verification.problems.push('national seal: the seal maker certificate does not chain to a trusted CA');
  return {
    verification,
    signerDer: ses.signerCertificate,
    makerChain: makerPath.chain.length ? makerPath.chain.map((c) => c.der) : [ses.seal.makerCertificate],
    signatureValue: ses.signatureValue,
    timeStamp: ses.timeStamp,
    sealVerdict: sealVerdict(checked.checks),
    report: {
      standard: ses.layout === 4 ? 'GB/T 38540-2020' : 'GM/T 0031-2014',
      esId: info.esId,
      name: info.name,
      type: info.type,
      vendorId: info.vendorId,
      validFrom: info.validFrom.toISOString(),
      validTo: info.validTo.toISOString(),
      picture: { format: info.picture.format, widthMm: info.picture.widthMm, heightMm: info.picture.heightMm },
      maker: maker ? { subject: maker.subject, issuer: maker.issuer, serialNumber: maker.serialHex } : null,
      makerTrusted: makerPath.trustAnchorReached && makerPath.status !== 'CHAIN_CONSTRAINTS_FAILURE',
      propertyInfo: ses.propertyInfo,
      checks: checked.checks,
      valid: checked.valid,
    },
  };
}

/**
 * The seal's facts for the policy: its own checks' verdict, its maker's trust, and whether the
 * maker's chain was revoked by `at` (checked when the maker is trusted; recorded in the report).
 */
export async function nationalSealFacts(
  ses: SesFindings,
  revocation: RevocationChecker | undefined,
  at: Date,
  options: { embeddedCrls?: Buffer[]; embeddedOcsps?: Buffer[]; offline?: boolean },
): Promise<NonNullable<SignatureFacts['nationalSeal']>> {
  let makerRevoked = false;
  if (ses.report.makerTrusted && revocation) {
    const evidence = await revocation.check(ses.makerChain, at, options);
    ses.report.makerRevocation = evidence;
    makerRevoked = evidence.checked && evidence.status === 'revoked' && (!evidence.revokedAt || new Date(evidence.revokedAt) <= at);
  }
  return { verdict: ses.sealVerdict, makerTrusted: ses.report.makerTrusted, makerRevoked };
}
