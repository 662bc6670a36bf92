/**
 * The checks GB/T 38540-2020 (7.2 and 8.3) asks of an electronic seal and of a seal signature,
 * each one named, so a report says which part failed: the maker's signature over the seal, the
 * seal's validity, the signer's certificate among the seal's certificates, the signature value
 * over TBS_Sign, the data hash against the document, and the time stamp when there is one.
 * Certificate paths and revocation are the caller's: this module checks what the structures
 * themselves say.
 */
import { createHash } from 'node:crypto';
import { publicKeyOf, readCertFields } from '../cert-fields.js';
import { sequence, octetString, oid } from '../der.js';
import { isUnsupported, resolveScheme, verifyWithScheme } from '../signature-schemes.js';
import { signatureValueDigest, verifyTimeStampToken } from '../timestamp-token.js';
import type { SesSeal, SesSignature } from './ses-structures.js';

export type SesCheckName =
  | 'seal-maker-signature'
  | 'seal-validity'
  | 'seal-extensions'
  | 'seal-certificate-listed'
  | 'signature-value'
  | 'data-hash'
  | 'signing-time'
  | 'time-stamp';

export interface SesCheck {
  name: SesCheckName;
  passed: boolean;
  detail: string;
}

export interface SesVerification {
  checks: SesCheck[];
  /** Every check passed. */
  valid: boolean;
}

const result = (checks: SesCheck[]): SesVerification => ({ checks, valid: checks.every((c) => c.passed) });

/** Verifies `signature` over `data` with the key of `certificate`, by the named algorithm; a reason when it does not. */
function signatureProblem(data: Buffer, signature: Buffer, certificate: Buffer, algorithm: string): string | null {
  const scheme = resolveScheme(algorithm, undefined, '');
  if (isUnsupported(scheme)) return `the algorithm ${scheme.unsupported} is not supported`;
  const key = publicKeyOf(certificate);
  if (!key) return 'the certificate is unreadable or its key unusable';
  return verifyWithScheme([data], key, scheme, signature) ? null : 'the signature does not verify';
}

/**
 * The maker's signature, over `SES_SealInfo` alone or over `SEQUENCE { sealInfo, cert,
 * signatureAlgorithm }`: products of both layouts write both, and either binds the seal's
 * content to the maker's key.
 */
function makerSignatureCheck(seal: SesSeal): SesCheck {
  const forms: Array<[string, Buffer]> = [
    ['seal information', seal.infoDer],
    ['seal information, maker certificate and algorithm', sequence(seal.infoDer, octetString(seal.makerCertificate), oid(seal.signatureAlgorithm))],
  ];
  let problem = '';
  for (const [form, content] of forms) {
    const failure = signatureProblem(content, seal.signatureValue, seal.makerCertificate, seal.signatureAlgorithm);
    if (!failure) return { name: 'seal-maker-signature', passed: true, detail: `the seal maker signed the ${form}` };
    problem = failure;
  }
  return { name: 'seal-maker-signature', passed: false, detail: `the seal maker's signature: ${problem}` };
}

const isoDay = (d: Date): string => d.toISOString().slice(0, 19) + 'Z';

function validityCheck(seal: SesSeal, at: Date): SesCheck {
  const { validFrom, validTo } = seal.info;
  if (validFrom.getTime() > validTo.getTime()) return { name: 'seal-validity', passed: false, detail: 'the seal ends before it starts' };
  if (at.getTime() < validFrom.getTime()) return { name: 'seal-validity', passed: false, detail: `the seal is valid only from ${isoDay(validFrom)}` };
  if (at.getTime() > validTo.getTime()) return { name: 'seal-validity', passed: false, detail: `the seal expired at ${isoDay(validTo)}` };
  return { name: 'seal-validity', passed: true, detail: `valid from ${isoDay(validFrom)} to ${isoDay(validTo)}` };
}

/** No extension the service does not know may be critical (it knows none). */
function extensionsCheck(seal: SesSeal): SesCheck {
  const critical = seal.info.extensions.filter((e) => e.critical).map((e) => e.id);
  return critical.length
    ? { name: 'seal-extensions', passed: false, detail: `the seal has critical extensions the service does not know: ${critical.join(', ')}` }
    : { name: 'seal-extensions', passed: true, detail: 'no unknown critical extension' };
}

/** Checks the seal itself: the maker's signature, its validity at `at`, its extensions. */
export function verifySesSeal(seal: SesSeal, at: Date): SesVerification {
  return result([makerSignatureCheck(seal), validityCheck(seal, at), extensionsCheck(seal)]);
}

const DIGESTS: Record<string, string> = { sm3: 'sm3', sha1: 'sha1', 'sha-1': 'sha1', sha256: 'sha256', 'sha-256': 'sha256' };

/** Whether a certificate is one the seal lists, by its bytes or by a digest of them. */
export function sealListsCertificate(seal: SesSeal, certificate: Buffer): boolean {
  const list = seal.info.certList;
  if (list.kind === 'certificates') return list.certificates.some((c) => c.equals(certificate));
  return list.digests.some((d) => {
    const algorithm = DIGESTS[d.algorithm];
    return algorithm !== undefined && createHash(algorithm).update(certificate).digest().equals(d.value);
  });
}

function listedCheck(signature: SesSignature): SesCheck {
  const listed = sealListsCertificate(signature.seal, signature.signerCertificate);
  let subject = 'the signer certificate';
  try {
    subject = `the signer certificate (serial ${readCertFields(signature.signerCertificate).serialHex})`;
  } catch {
    // named without its serial
  }
  return listed
    ? { name: 'seal-certificate-listed', passed: true, detail: `${subject} is one of the seal's certificates` }
    : { name: 'seal-certificate-listed', passed: false, detail: `${subject} is not among the seal's certificates` };
}

export interface SignedData {
  /** The signed bytes, in pieces (a PDF's byte ranges). */
  data?: readonly Buffer[];
  /** Or their hash, when only the hash is at hand. */
  hash?: Buffer;
}

/** The data hash: SM3 of the data as GB/T 38540 signs it (a hash given directly is compared as it is). */
function dataHashCheck(signature: SesSignature, signed: SignedData): SesCheck {
  let actual: Buffer;
  if (signed.hash) actual = signed.hash;
  else {
    const hash = createHash('sm3');
    for (const piece of signed.data ?? []) hash.update(piece);
    actual = hash.digest();
  }
  return actual.equals(signature.dataHash)
    ? { name: 'data-hash', passed: true, detail: 'the data hash matches the signed data' }
    : { name: 'data-hash', passed: false, detail: 'the data hash does not match the signed data: the data was changed after signing' };
}

function timeStampCheck(signature: SesSignature): { check: SesCheck; genTime?: Date } | null {
  if (!signature.timeStamp) return null;
  try {
    const verification = verifyTimeStampToken(signature.timeStamp, signatureValueDigest(signature.signatureValue));
    if (!verification.imprintMatches || verification.signature.signatureValid !== true || verification.signature.messageDigestMatches !== true) return { check: { name: 'time-stamp', passed: false, detail: verification.problems.join('; ') || 'the time stamp does not verify' } };
    return { check: { name: 'time-stamp', passed: true, detail: `time-stamped at ${isoDay(verification.genTime)}` }, genTime: verification.genTime };
  } catch (err) {
    return { check: { name: 'time-stamp', passed: false, detail: `the time stamp is unreadable: ${(err as Error).message}` } };
  }
}

/**
 * Checks a seal signature against the data it signs: its value over TBS_Sign with the signer's
 * certificate, the data hash, the signer's certificate in the seal's list, and the seal itself
 * at the signing time (the time stamp's, when there is one, else the time the signer states).
 */
export function verifySesSignature(signature: SesSignature, signed: SignedData): SesVerification & { signingTime: Date | null } {
  const valueProblem = signatureProblem(signature.tbsDer, signature.signatureValue, signature.signerCertificate, signature.signatureAlgorithm);
  const stamp = timeStampCheck(signature);
  const signingTime = stamp?.genTime ?? signature.signedAt;
  const checks: SesCheck[] = [
    valueProblem ? { name: 'signature-value', passed: false, detail: `the signature value: ${valueProblem}` } : { name: 'signature-value', passed: true, detail: 'the signature value verifies with the signer certificate' },
    dataHashCheck(signature, signed),
    listedCheck(signature),
    signature.signedAt ? { name: 'signing-time', passed: true, detail: `signed at ${isoDay(signature.signedAt)} as the signer states` } : { name: 'signing-time', passed: false, detail: 'the signing time is unreadable' },
    ...(stamp ? [stamp.check] : []),
  ];
  const sealChecks = verifySesSeal(signature.seal, signingTime ?? new Date()).checks;
  return { ...result([...checks, ...sealChecks]), signingTime };
}
