/**
 * Verifies the signers of CMS SignedData: finds the signer certificate, checks the message
 * digest against the signed content, the signature over the signed attributes (or the content)
 * with node:crypto, and the ESS signing-certificate reference. Parsing is in cms-parse.ts
 * (asn1js/pkijs, BER accepted); algorithms in signature-schemes.ts and digests.ts.
 */
import type { KeyObject } from 'node:crypto';
import { isParseFailure, octetsOf, timeOf } from './asn1.js';
import { CertificateError, publicKeyOf, readCertFields, subjectKeyIdentifier } from './cert-fields.js';
import { CmsError, type AttributeValue, type ParsedSignedData, type ParsedSignerInfo } from './cms-parse.js';
import { digestOf, isSupportedDigest } from './digests.js';
import { readEssCertId } from './ess.js';
import { OID } from './oids.js';
import { isUnsupported, keyFitsScheme, resolveScheme, verifyWithScheme, type SchemeName, type SignatureScheme } from './signature-schemes.js';

export { CmsError, parseSignedData, type AttributeValue, type CmsErrorCode, type ParsedSignedData, type ParsedSignerInfo } from './cms-parse.js';

/** The signed content: the digest per algorithm, and the bytes for signatures without attributes. */
export interface SignedContent {
  digest(algorithm: string): Buffer;
  chunks(): Buffer[];
}

export function contentOf(chunks: Buffer[]): SignedContent {
  const cache = new Map<string, Buffer>();
  return {
    digest(algorithm) {
      let d = cache.get(algorithm);
      if (!d) {
        d = digestOf(algorithm, chunks);
        cache.set(algorithm, d);
      }
      return d;
    },
    chunks: () => chunks,
  };
}

export interface SignerVerification {
  signerCertificate: Buffer | null;
  digestAlgorithm: string;
  messageDigestMatches: boolean | null;
  /** null when nothing could be verified, e.g. an unsupported algorithm (see unsupportedAlgorithm). */
  signatureValid: boolean | null;
  signatureAlgorithm: { name: SchemeName | 'unknown'; hash: string; keyBits?: number };
  /**
   * The digest or signature algorithm (OID, or a description of unsupported parameters) that
   * this verifier does not implement; `signatureValid` is then null. That is not a failed
   * signature: the signature could not be checked (INDETERMINATE), it was not found broken.
   */
  unsupportedAlgorithm: string | undefined;
  weakAlgorithms: string[];
  signingCertificateAttribute: { version: 'v1' | 'v2' | null; matches: boolean | null };
  signedAttrsReordered: boolean;
  claimedSigningTime: Date | null;
  timestampTokens: Buffer[];
  problems: string[];
}

function findSigner(signer: ParsedSignerInfo, pool: Buffer[]): Buffer | null {
  for (const der of pool) {
    try {
      const fields = readCertFields(der);
      if (signer.sid.kind === 'issuerSerial' && fields.issuerDer.equals(signer.sid.issuerDer) && fields.serialHex === signer.sid.serialHex) return der;
      if (signer.sid.kind === 'ski' && subjectKeyIdentifier(fields) === signer.sid.keyIdHex) return der;
    } catch {
      // unreadable certificates in the pool are skipped
    }
  }
  return null;
}


/**
 * The encodings the signature may be over, in order: the DER SET OF (RFC 5652 5.4; the bytes as
 * sent when they are DER), then the bytes as sent when they were BER. Unsorted attributes are
 * tried sorted afterwards (see verifySignatureValue and STANDARDS.md).
 */
function signedAttrsCandidates(signer: ParsedSignerInfo): Buffer[] {
  const der = signer.signedAttrsDer!;
  return signer.signedAttrsAsSent && !signer.signedAttrsAsSent.equals(der) ? [der, signer.signedAttrsAsSent] : [der];
}

function emptyResult(signer: ParsedSignerInfo): SignerVerification {
  return {
    signerCertificate: null,
    digestAlgorithm: signer.digestAlgorithm,
    messageDigestMatches: null,
    signatureValid: null,
    signatureAlgorithm: { name: 'unknown', hash: signer.digestAlgorithm },
    unsupportedAlgorithm: undefined,
    weakAlgorithms: [],
    signingCertificateAttribute: { version: null, matches: null },
    signedAttrsReordered: false,
    claimedSigningTime: null,
    timestampTokens: [],
    problems: [],
  };
}

/**
 * Verifies one signer: finds its certificate, checks the message digest against the signed
 * content, the signature over the signed attributes (or the content), and the
 * signing-certificate(-v2) reference. Every failure is reported, nothing is thrown.
 */
export function verifySignerInfo(parsed: ParsedSignedData, signer: ParsedSignerInfo, content: SignedContent, extraCertificates: Buffer[] = []): SignerVerification {
  try {
    return verifySignerInfoUnchecked(parsed, signer, content, extraCertificates);
  } catch (err) {
    if (!(err instanceof CmsError || err instanceof CertificateError || isParseFailure(err))) throw err;
    // A malformed attribute or certificate inside the signature is a failed signature, not a crash.
    return { ...emptyResult(signer), signatureValid: false, problems: [`the signer information is malformed: ${(err as Error).message}`] };
  }
}

function claimedSigningTime(signer: ParsedSignerInfo, problems: string[]): Date | null {
  const value = signer.signedAttrs.get(OID.signingTime)?.[0];
  if (!value) return null;
  try {
    return timeOf(value.block, 'signing time');
  } catch {
    problems.push('the signing-time attribute is not a valid time');
    return null;
  }
}

/** Digest of what the signer signed: the byte ranges, or the encapsulated content when there is one. */
function signedContentDigest(parsed: ParsedSignedData, content: SignedContent, weak: string[], problems: string[]): (alg: string) => Buffer | null {
  const eContent = parsed.encapsulatedContent;
  if (!eContent) return (alg) => content.digest(alg);
  // adbe.pkcs7.sha1: the encapsulated content is the SHA-1 digest of the signed ranges.
  if (eContent.length === 20 && eContent.equals(content.digest('sha1'))) {
    if (!weak.includes('sha1')) weak.push('sha1');
    return (alg) => digestOf(alg, [eContent]);
  }
  // Otherwise an encapsulated content must be the signed bytes themselves.
  if (digestOf('sha256', [eContent]).equals(content.digest('sha256'))) return (alg) => content.digest(alg);
  problems.push(eContent.length === 20 ? 'the encapsulated SHA-1 digest does not match the signed ranges' : 'the encapsulated content is not the signed data');
  return () => null;
}

function verifySignerInfoUnchecked(parsed: ParsedSignedData, signer: ParsedSignerInfo, content: SignedContent, extraCertificates: Buffer[]): SignerVerification {
  const result = emptyResult(signer);
  const { problems, weakAlgorithms: weak } = result;
  const pool = [...parsed.certificates, ...extraCertificates];
  result.signerCertificate = findSigner(signer, pool);
  result.claimedSigningTime = claimedSigningTime(signer, problems);
  result.timestampTokens = (signer.unsignedAttrs.get(OID.signatureTimeStampToken) ?? []).map((v) => v.raw);
  if (!isSupportedDigest(signer.digestAlgorithm)) {
    problems.push(`unsupported digest algorithm ${signer.digestAlgorithmOid}`);
    result.unsupportedAlgorithm = signer.digestAlgorithmOid;
    return result;
  }
  if (signer.digestAlgorithm === 'sha1') weak.push('sha1');

  const digestOfContent = signedContentDigest(parsed, content, weak, problems);
  if (signer.signedAttrsDer) {
    const md = signer.signedAttrs.get(OID.messageDigest);
    if (!md?.[0]) problems.push('the signed attributes have no message-digest');
    else if (md.length > 1) problems.push('the message-digest attribute has more than one value');
    else {
      const expected = digestOfContent(signer.digestAlgorithm);
      result.messageDigestMatches = expected !== null && octetsOf(md[0].block, 'message digest').equals(expected);
      if (!result.messageDigestMatches) problems.push('the message digest does not match the signed content: the document was altered');
    }
    if (!signer.signedAttrs.get(OID.contentType)?.[0]) problems.push('the signed attributes have no content-type');
  }

  const scheme = resolveScheme(signer.signatureAlgorithm.oid, signer.signatureAlgorithm.params, signer.digestAlgorithm);
  const signedData = (): Buffer[] => (parsed.encapsulatedContent ? [parsed.encapsulatedContent] : content.chunks());
  if (!result.signerCertificate && signer.sid.kind === 'issuerSerial' && !isUnsupported(scheme)) {
    // Some signers re-encode the issuer name (e.g. UTF-8 twice); accept a certificate with the
    // same serial number only when the signature verifies with its key.
    const serial = signer.sid.serialHex;
    const match = pool.find((c) => {
      try {
        if (readCertFields(c).serialHex !== serial) return false;
      } catch {
        return false;
      }
      const key = publicKeyOf(c) ?? undefined;
      const data = signer.signedAttrsDer ? signedAttrsCandidates(signer).map((bytes) => [bytes]) : [signedData()];
      return key !== undefined && data.some((d) => verifyWithScheme(d, key, scheme, signer.signature));
    });
    if (match) {
      result.signerCertificate = match;
      problems.push("the signer identifier's issuer name does not match the certificate's byte for byte; the certificate was identified by its serial number and the signature");
    }
  }
  const certDer = result.signerCertificate;
  if (!certDer) {
    problems.push('the signer certificate is not in the signature');
    if (isUnsupported(scheme)) result.unsupportedAlgorithm = scheme.unsupported;
    return result;
  }
  if (isUnsupported(scheme)) {
    result.unsupportedAlgorithm = scheme.unsupported;
    problems.push(`unsupported signature algorithm ${scheme.unsupported}`);
    return result;
  }
  const key = publicKeyOf(certDer) ?? undefined;
  if (!key) {
    problems.push('the signer certificate cannot be decoded');
    return result;
  }
  const keyBits = key.asymmetricKeyDetails?.modulusLength;
  result.signatureAlgorithm = { name: scheme.name, hash: scheme.hash, ...(keyBits ? { keyBits } : {}) };
  if (scheme.hash === 'sha1' && !weak.includes('sha1')) weak.push('sha1');
  if (keyBits !== undefined && keyBits < 2048) weak.push(`RSA-${keyBits}`);
  if (!keyFitsScheme(key, scheme)) problems.push(`the signature algorithm ${scheme.name} does not fit the certificate's ${key.asymmetricKeyType ?? 'unknown'} key`);

  result.signatureValid = verifySignatureValue(signer, scheme, key, signedData, result);
  if (!result.signatureValid) problems.push('the signature value does not verify with the signer certificate');
  if (signer.signedAttrsEncoding === 'ber') problems.push('the signed attributes were sent in BER, not DER as RFC 5652 requires; they were verified in their DER encoding');
  if (!signer.signedAttrsInDerOrder) problems.push(`the signed attributes are not in DER order; ${result.signedAttrsReordered ? 'they verified only after sorting' : 'they were verified as sent'}`);
  result.signingCertificateAttribute = signingCertificateReference(signer, certDer, problems);
  return result;
}

function verifySignatureValue(signer: ParsedSignerInfo, scheme: SignatureScheme, key: KeyObject, signedData: () => Buffer[], result: SignerVerification): boolean {
  if (!signer.signedAttrsDer) {
    const valid = verifyWithScheme(signedData(), key, scheme, signer.signature);
    result.messageDigestMatches = valid;
    return valid;
  }
  for (const candidate of signedAttrsCandidates(signer)) {
    if (verifyWithScheme([candidate], key, scheme, signer.signature)) return true;
  }
  if (signer.signedAttrsDerSorted && verifyWithScheme([signer.signedAttrsDerSorted], key, scheme, signer.signature)) {
    result.signedAttrsReordered = true;
    return true;
  }
  return false;
}

function signingCertificateReference(signer: ParsedSignerInfo, certDer: Buffer, problems: string[]): SignerVerification['signingCertificateAttribute'] {
  const v2 = signer.signedAttrs.get(OID.signingCertificateV2)?.[0];
  const v1 = signer.signedAttrs.get(OID.signingCertificate)?.[0];
  const value: AttributeValue | undefined = v2 ?? v1;
  if (!value) return { version: null, matches: null };
  const id = readEssCertId(value.block, v2 !== undefined);
  let matches = isSupportedDigest(id.hashAlgorithm) && id.certHash.equals(digestOf(id.hashAlgorithm, [certDer]));
  if (matches && id.issuerSerial) {
    const fields = readCertFields(certDer);
    if (id.issuerSerial.issuerNames.length > 0 && !id.issuerSerial.issuerNames.some((n) => n.equals(fields.issuerDer))) matches = false;
    if (id.issuerSerial.serialHex !== fields.serialHex) matches = false;
  }
  if (!matches) problems.push('the signing-certificate attribute does not match the signer certificate');
  return { version: v2 ? 'v2' : 'v1', matches };
}
