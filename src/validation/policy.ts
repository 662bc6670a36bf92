import { readFileSync } from 'node:fs';
import { publicKeyOf } from '../pki/cert-fields.js';
import { z } from 'zod';
import type { PathResult } from '../pki/path-validate.js';
import type { SignerVerification } from '../pki/signed-data.js';
import type { Indication, SignatureReport, SubIndication } from './report.js';

const Indications = z.enum(['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE']);
const SubIndications = z.enum(['SIG_CONSTRAINTS_FAILURE', 'CRYPTO_CONSTRAINTS_FAILURE', 'FORMAT_FAILURE']);

/** The validation policy: what this service accepts, as data (policies/default.json, or VALIDATION_POLICY). */
export const ValidationPolicySchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    digestAlgorithms: z.record(z.string(), z.object({ acceptedUntil: z.string().datetime({ offset: true }).optional() }).strict()),
    signatureAlgorithms: z.record(
      z.string(),
      z.object({ minKeyBits: z.number().int().positive().optional(), acceptedUntil: z.string().datetime({ offset: true }).optional() }).strict(),
    ),
    signingCertificateReference: z.record(z.string(), z.enum(['required', 'optional'])),
    revocation: z.object({ maxAgeAtProofOfExistenceHours: z.number().positive().nullable() }).strict(),
    changes: z.object({ notPermitted: z.tuple([Indications, SubIndications]) }).strict(),
  })
  .strict();

export type ValidationPolicy = z.infer<typeof ValidationPolicySchema>;

export const DEFAULT_POLICY_FILE = new URL('../../policies/default.json', import.meta.url);

/** Reads and checks a policy file; a bad file is a start-up error that names what is wrong. */
export function loadValidationPolicy(file: string | URL = DEFAULT_POLICY_FILE): ValidationPolicy {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`validation policy ${String(file)}: ${(err as Error).message}`);
  }
  const parsed = ValidationPolicySchema.safeParse(json);
  if (!parsed.success) throw new Error(`validation policy ${String(file)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

let defaultPolicy: ValidationPolicy | undefined;
export function defaultValidationPolicy(): ValidationPolicy {
  defaultPolicy ??= loadValidationPolicy();
  return defaultPolicy;
}

/** The facts about one signature that the policy judges (the report holds the rest). */
export interface SignatureFacts {
  formatFailure: boolean;
  verification: SignerVerification | undefined;
  signerDer: Buffer | null;
  path: PathResult | undefined;
  /** The best proof of existence of the signature. */
  poe: Date;
  validationTime: Date;
  /** For a GB/T 38540 seal signature: what its seal's own checks decide, and whether its maker is trusted and not revoked. */
  nationalSeal?: { verdict?: { verdict: Verdict; failed: FailedConstraint }; makerTrusted: boolean; makerRevoked: boolean };
}

export type Verdict = [Indication, SubIndication | null];

/** A constraint of the policy that the signature does not meet. */
export interface FailedConstraint {
  constraint: string;
  detail: string;
}

/** Size of a signer key in bits (RSA modulus, EC curve order, EdDSA curve), when known. */
function keyBitsOf(certDer: Buffer): number | undefined {
  try {
    const details = publicKeyOf(certDer)?.asymmetricKeyDetails;
    if (details?.modulusLength) return details.modulusLength;
    const curve = details?.namedCurve;
    const bits: Record<string, number> = { prime256v1: 256, 'P-256': 256, secp256k1: 256, secp384r1: 384, 'P-384': 384, secp521r1: 521, 'P-521': 521, brainpoolP256r1: 256, brainpoolP384r1: 384, brainpoolP512r1: 512, SM2: 256 };
    return curve ? bits[curve] : undefined;
  } catch {
    return undefined;
  }
}

/** The algorithm constraints: known digest and signature algorithms, key sizes, dates. */
export function algorithmConstraint(policy: ValidationPolicy, facts: SignatureFacts): FailedConstraint | undefined {
  const v = facts.verification;
  if (!v) return undefined;
  if (v.unsupportedAlgorithm) return { constraint: 'signatureAlgorithms', detail: `the algorithm ${v.unsupportedAlgorithm} is not one this validator implements` };
  const digest = v.digestAlgorithm;
  const digestRule = policy.digestAlgorithms[digest];
  if (!digestRule) return { constraint: `digestAlgorithms.${digest}`, detail: `the digest algorithm ${digest} is not accepted by the policy` };
  if (digestRule.acceptedUntil && facts.poe > new Date(digestRule.acceptedUntil)) {
    return { constraint: `digestAlgorithms.${digest}.acceptedUntil`, detail: `${digest} is accepted only for signatures proven to exist before ${digestRule.acceptedUntil}` };
  }
  const scheme = v.signatureAlgorithm;
  if (scheme.name === 'unknown') return undefined;
  const hash = scheme.hash;
  if (hash) {
    const hashRule = policy.digestAlgorithms[hash];
    if (!hashRule) return { constraint: `digestAlgorithms.${hash}`, detail: `the signature's hash ${hash} is not accepted by the policy` };
    if (hashRule.acceptedUntil && facts.poe > new Date(hashRule.acceptedUntil)) {
      return { constraint: `digestAlgorithms.${hash}.acceptedUntil`, detail: `${hash} is accepted only for signatures proven to exist before ${hashRule.acceptedUntil}` };
    }
  }
  const rule = policy.signatureAlgorithms[scheme.name];
  if (!rule) return { constraint: `signatureAlgorithms.${scheme.name}`, detail: `the signature algorithm ${scheme.name} is not accepted by the policy` };
  if (rule.acceptedUntil && facts.poe > new Date(rule.acceptedUntil)) {
    return { constraint: `signatureAlgorithms.${scheme.name}.acceptedUntil`, detail: `${scheme.name} is accepted only for signatures proven to exist before ${rule.acceptedUntil}` };
  }
  const bits = facts.signerDer ? keyBitsOf(facts.signerDer) : undefined;
  if (rule.minKeyBits && bits !== undefined && bits < rule.minKeyBits) {
    return { constraint: `signatureAlgorithms.${scheme.name}.minKeyBits`, detail: `a ${bits}-bit ${scheme.name} key; the policy requires at least ${rule.minKeyBits} bits` };
  }
  return undefined;
}

/**
 * Judges the facts of one signature by the policy, in the order of ETSI EN 319 102-1: format,
 * integrity, identification of the signer, cryptographic verification, chain, validity window,
 * cryptographic constraints, revocation, then the signature constraints (changes after signing).
 */
export function judgeSignature(policy: ValidationPolicy, report: SignatureReport, facts: SignatureFacts): { verdict: Verdict; failed?: FailedConstraint } {
  const { verification, path } = facts;
  if (facts.formatFailure || !verification || report.coverage === 'partial') return { verdict: ['TOTAL_FAILED', 'FORMAT_FAILURE'] };
  if (report.integrity.messageDigestMatches === false) return { verdict: ['TOTAL_FAILED', 'HASH_FAILURE'] };
  if (!facts.signerDer) return { verdict: ['INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'] };
  const algorithms = algorithmConstraint(policy, facts);
  if (verification.unsupportedAlgorithm) return { verdict: ['INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE'], failed: algorithms };
  if (verification.signatureValid !== true) return { verdict: ['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE'] };
  if (facts.nationalSeal?.verdict) return facts.nationalSeal.verdict;
  if (report.integrity.signingCertificateReference === 'mismatch') return { verdict: ['INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND'] };
  if (report.integrity.signingCertificateReference === 'absent' && policy.signingCertificateReference[report.subFilter ?? ''] === 'required') {
    return { verdict: ['INDETERMINATE', 'SIG_CONSTRAINTS_FAILURE'], failed: { constraint: `signingCertificateReference.${report.subFilter}`, detail: 'the signed attributes do not reference the signing certificate, which the policy requires for this sub-filter' } };
  }
  if (!path || !path.trustAnchorReached) return { verdict: ['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND'] };
  if (facts.nationalSeal && !facts.nationalSeal.makerTrusted) {
    return { verdict: ['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND'], failed: { constraint: 'nationalSeal.maker', detail: 'the seal maker certificate does not chain to a trusted CA' } };
  }
  if (facts.nationalSeal?.makerRevoked) {
    return { verdict: ['TOTAL_FAILED', 'REVOKED'], failed: { constraint: 'nationalSeal.maker', detail: 'the seal maker certificate was revoked before the signature was made' } };
  }
  if (path.status === 'CHAIN_CONSTRAINTS_FAILURE') return { verdict: ['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE'] };
  const leafWindow = path.outOfValidity.find((o) => o.index === 0);
  if (path.status === 'NOT_YET_VALID' || leafWindow?.reason === 'not yet valid') return { verdict: ['TOTAL_FAILED', 'NOT_YET_VALID'] };
  if (path.status === 'EXPIRED') {
    // Proof of existence only bounds the signing time from above; the signer's own claim of a
    // signing time after expiry is what makes this a failure rather than a missing proof.
    const leaf = path.chain[0]!;
    const claimed = report.claimedSigningTime ? new Date(report.claimedSigningTime) : undefined;
    if (leafWindow?.reason === 'expired' && claimed && claimed > leaf.notAfter) return { verdict: ['TOTAL_FAILED', 'EXPIRED'] };
    return { verdict: ['INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE'] };
  }
  if (algorithms) return { verdict: ['INDETERMINATE', 'CRYPTO_CONSTRAINTS_FAILURE'], failed: algorithms };
  const revocation = report.revocation;
  if (revocation.checked && revocation.status === 'revoked') {
    const revokedAt = revocation.revokedAt ? new Date(revocation.revokedAt) : undefined;
    if (!revokedAt || revokedAt <= facts.poe) return { verdict: facts.poe < facts.validationTime ? ['TOTAL_FAILED', 'REVOKED'] : ['INDETERMINATE', 'REVOKED_NO_POE'] };
  }
  if (!revocation.checked || revocation.status === 'unknown') return { verdict: ['INDETERMINATE', 'TRY_LATER'] };
  const maxAge = policy.revocation.maxAgeAtProofOfExistenceHours;
  if (maxAge !== null && revocation.thisUpdate && new Date(revocation.thisUpdate).getTime() < facts.poe.getTime() - maxAge * 3_600_000) {
    return { verdict: ['INDETERMINATE', 'TRY_LATER'], failed: { constraint: 'revocation.maxAgeAtProofOfExistenceHours', detail: `the revocation data was issued at ${revocation.thisUpdate}, more than ${maxAge} hours before the proof of existence` } };
  }
  if (!report.changesAfterSigning.permitted) {
    return { verdict: policy.changes.notPermitted, failed: { constraint: 'changes.notPermitted', detail: 'the document was changed after signing in a way that is not permitted' } };
  }
  return { verdict: ['TOTAL_PASSED', null] };
}
