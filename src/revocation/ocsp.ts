/**
 * OCSP (RFC 6960): requests are written with der.ts; responses and requests received are read
 * with pkijs (OCSPResponse, ResponseData, OCSPRequest, CertID) over asn1js, which bounds the
 * work and accepts any valid BER length forms. The signed bytes (tbsResponseData) are the
 * input's, in DER. Signatures are checked with node:crypto (signature-schemes.ts).
 */
import { DerCache } from '../pki/der-cache.js';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bitStringBytes, decodeBer, elementsOf, integerHex, isParseFailure, isUniversal, matchSchema, octetsOf, oidOf, rawOf, smallInteger, SMALL_LIMITS, timeOf, toDer, type Block } from '../pki/asn1.js';
import { authorityInfoAccessUris, extendedKeyUsage, publicKeyOf, readCertFields } from '../pki/cert-fields.js';
import { certificateSignedBy } from '../pki/cert-signature.js';
import { algorithmId, contextTag, integer, octetString, oid, sequence } from '../pki/der.js';
import { DIGEST_BY_OID } from '../pki/digests.js';
import { OID } from '../pki/oids.js';
import { isUnsupported, resolveScheme, verifyWithScheme } from '../pki/signature-schemes.js';

export const OCSP = {
  basic: '1.3.6.1.5.5.7.48.1.1',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  accessMethod: '1.3.6.1.5.5.7.48.1',
  signingEku: '1.3.6.1.5.5.7.3.9',
  aia: '1.3.6.1.5.5.7.1.1',
} as const;

export class OcspError extends Error {
  override name = 'OcspError';
}

/** Bounds on OCSP messages: a response for a few certificates, with its responder chain. */
const OCSP_LIMITS = { maxBytes: 1024 * 1024, maxNodes: 50_000 } as const;
const MAX_SINGLE_RESPONSES = 100;
const MAX_CERTIFICATES = 20;

export interface CertId {
  hashAlgorithm: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serialHex: string;
}

/** The subjectPublicKey bits of a certificate (what issuerKeyHash is computed over). */
const keyBits = new DerCache<Buffer>(2_000);

/** The subjectPublicKey bits of a certificate (what OCSP hashes for issuerKeyHash), read once per certificate. */
export function publicKeyBits(certDer: Buffer): Buffer {
  return keyBits.get(certDer, () => {
    const [, bits] = elementsOf(decodeBer(readCertFields(certDer).spkiDer, 'public key', SMALL_LIMITS), 2, 'public key');
    return bitStringBytes(bits!, 'public key');
  });
}

export function certIdFor(certDer: Buffer, issuerDer: Buffer, hashAlgorithm = 'sha1'): CertId {
  const issuer = readCertFields(issuerDer);
  return {
    hashAlgorithm,
    issuerNameHash: createHash(hashAlgorithm).update(issuer.subjectDer).digest(),
    issuerKeyHash: createHash(hashAlgorithm).update(publicKeyBits(issuerDer)).digest(),
    serialHex: readCertFields(certDer).serialHex,
  };
}

const HASH_OID: Record<string, string> = { sha1: OID.sha1, sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };

export function encodeCertId(id: CertId): Buffer {
  return sequence(algorithmId(HASH_OID[id.hashAlgorithm]!, Buffer.from([0x05, 0x00])), octetString(id.issuerNameHash), octetString(id.issuerKeyHash), integer(Buffer.from(id.serialHex.length % 2 ? `0${id.serialHex}` : id.serialHex, 'hex')));
}

function certIdOf(id: pkijs.CertID): CertId {
  return {
    hashAlgorithm: DIGEST_BY_OID[id.hashAlgorithm.algorithmId] ?? 'unknown',
    issuerNameHash: octetsOf(id.issuerNameHash as Block, 'issuer name hash'),
    issuerKeyHash: octetsOf(id.issuerKeyHash as Block, 'issuer key hash'),
    serialHex: integerHex(id.serialNumber, 'serial number'),
  };
}

/** The certificates asked about in an OCSP request and its nonce extension value, as received. */
export function parseOcspRequest(der: Buffer): { certIds: CertId[]; nonce: Buffer | undefined } {
  try {
    const request = new pkijs.OCSPRequest({ schema: decodeBer(der, 'OCSP request', OCSP_LIMITS) });
    const list = request.tbsRequest.requestList;
    if (list.length > MAX_SINGLE_RESPONSES) throw new OcspError('the OCSP request asks about too many certificates');
    const nonceExt = request.tbsRequest.requestExtensions?.find((e) => e.extnID === OCSP.nonce);
    return { certIds: list.map((r) => certIdOf(r.reqCert)), nonce: nonceExt ? octetsOf(nonceExt.extnValue as Block, 'nonce') : undefined };
  } catch (err) {
    if (err instanceof OcspError) throw err;
    if (isParseFailure(err)) throw new OcspError(`the OCSP request cannot be parsed: ${err.message}`);
    throw err;
  }
}

export function sameCertId(a: CertId, b: CertId): boolean {
  return a.hashAlgorithm === b.hashAlgorithm && a.issuerNameHash.equals(b.issuerNameHash) && a.issuerKeyHash.equals(b.issuerKeyHash) && a.serialHex === b.serialHex;
}

/** An OCSP request for one certificate, with a nonce. */
export function buildOcspRequest(certDer: Buffer, issuerDer: Buffer): { der: Buffer; nonce: Buffer; certId: CertId } {
  const certId = certIdFor(certDer, issuerDer);
  const nonce = randomBytes(16);
  const nonceExt = sequence(oid(OCSP.nonce), octetString(octetString(nonce)));
  const tbs = sequence(sequence(sequence(encodeCertId(certId))), contextTag(2, true, sequence(nonceExt)));
  return { der: sequence(tbs), nonce, certId };
}

export interface SingleStatus {
  certId: CertId;
  status: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  reason?: number;
  thisUpdate: Date;
  nextUpdate: Date | null;
}

export interface ParsedOcspResponse {
  responseStatus: number;
  producedAt?: Date;
  responses: SingleStatus[];
  nonce?: Buffer;
  certificates: Buffer[];
  tbs?: Buffer;
  signatureAlgorithm?: string;
  signatureAlgorithmParams?: Block;
  signature?: Buffer;
  responderId?: { byName?: Buffer; byKeyHash?: Buffer };
}

const basicResponseSchema = (): asn1js.Sequence =>
  new asn1js.Sequence({
    value: [
      new asn1js.Sequence({ name: 'tbs' }),
      new asn1js.Sequence({ name: 'signatureAlgorithm' }),
      new asn1js.Any({ name: 'signature' }),
      new asn1js.Constructed({ name: 'certs', optional: true, idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Sequence({ name: 'certList' })] }),
    ],
  });

function singleStatus(single: pkijs.SingleResponse): SingleStatus {
  const base = { certId: certIdOf(single.certID), thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate ?? null };
  const status = single.certStatus as Block;
  if (status.idBlock.tagClass !== 3) throw new OcspError('bad certificate status');
  if (status.idBlock.tagNumber === 0) return { ...base, status: 'good' };
  if (status.idBlock.tagNumber === 1) {
    const [time, reason] = elementsOf(status, 2, 'revoked info');
    if (!time) throw new OcspError('revoked status without a time');
    const reasonValue = reason && reason.idBlock.tagClass === 3 && reason.idBlock.tagNumber === 0 ? elementsOf(reason, 1, 'revocation reason')[0] : undefined;
    return { ...base, status: 'revoked', revokedAt: timeOf(time, 'revocation time'), reason: reasonValue ? smallInteger(reasonValue, 'revocation reason') : undefined };
  }
  return { ...base, status: 'unknown' };
}

/** The nonce extension's value: the nonce inside its OCTET STRING, or the value itself when not wrapped. */
function nonceOf(extensions: pkijs.Extension[] | undefined): Buffer | undefined {
  const ext = extensions?.find((e) => e.extnID === OCSP.nonce);
  if (!ext) return undefined;
  const value = octetsOf(ext.extnValue as Block, 'nonce');
  try {
    const inner = decodeBer(value, 'nonce', SMALL_LIMITS);
    return isUniversal(inner, 4) ? octetsOf(inner, 'nonce') : value;
  } catch {
    return value;
  }
}

function parseBasic(bytes: Buffer, responseStatus: number): ParsedOcspResponse {
  const named = matchSchema(decodeBer(bytes, 'basic OCSP response', OCSP_LIMITS), basicResponseSchema(), 'basic OCSP response');
  const data = new pkijs.ResponseData({ schema: named.tbs! });
  if (data.responses.length > MAX_SINGLE_RESPONSES) throw new OcspError('the OCSP response has too many entries');
  const signatureAlgorithm = new pkijs.AlgorithmIdentifier({ schema: named.signatureAlgorithm! });
  const certificates = named.certList ? elementsOf(named.certList, MAX_CERTIFICATES, 'responder certificates').map(rawOf) : [];
  const responder = data.responderID;
  return {
    responseStatus,
    producedAt: data.producedAt,
    responses: data.responses.map(singleStatus),
    nonce: nonceOf(data.responseExtensions),
    certificates,
    // RFC 6960: the signature is over the DER encoding of tbsResponseData (the bytes sent, when they are DER).
    tbs: toDer(named.tbs!),
    signatureAlgorithm: signatureAlgorithm.algorithmId,
    signatureAlgorithmParams: signatureAlgorithm.algorithmParams as Block | undefined,
    signature: bitStringBytes(named.signature!, 'OCSP signature'),
    responderId: responder instanceof pkijs.RelativeDistinguishedNames ? { byName: Buffer.from(responder.valueBeforeDecode) } : { byKeyHash: octetsOf(responder as Block, 'responder key hash') },
  };
}

// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE { responseType, response OCTET STRING } OPTIONAL }
// (pkijs's schema takes the OCTET STRING only in primitive form; BER may send it constructed).
const responseSchema = (): asn1js.Sequence =>
  new asn1js.Sequence({
    value: [
      new asn1js.Enumerated({ name: 'status' }),
      new asn1js.Constructed({ optional: true, idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ name: 'type' }), new asn1js.Any({ name: 'response' })] })] }),
    ],
  });

export function parseOcspResponse(der: Buffer): ParsedOcspResponse {
  try {
    const named = matchSchema(decodeBer(der, 'OCSP response', OCSP_LIMITS), responseSchema(), 'OCSP response');
    const responseStatus = smallInteger(named.status!, 'OCSP response status');
    if (responseStatus !== 0 || !named.response) return { responseStatus, responses: [], certificates: [] };
    if (oidOf(named.type!, 'OCSP response type') !== OCSP.basic) throw new OcspError('not a basic OCSP response');
    return parseBasic(octetsOf(named.response, 'response bytes'), responseStatus);
  } catch (err) {
    if (err instanceof OcspError) throw err;
    if (isParseFailure(err)) throw new OcspError(`the OCSP response cannot be parsed: ${err.message}`);
    throw err;
  }
}

function signedBy(response: ParsedOcspResponse, signerDer: Buffer): boolean {
  if (!response.signatureAlgorithm || !response.tbs || !response.signature) return false;
  const scheme = resolveScheme(response.signatureAlgorithm, response.signatureAlgorithmParams, '');
  if (isUnsupported(scheme)) return false;
  try {
    const key = publicKeyOf(signerDer);
    return key !== null && verifyWithScheme([response.tbs], key, scheme, response.signature);
  } catch {
    return false;
  }
}

/**
 * Checks who signed the response: the issuing CA itself, or a responder certificate issued by
 * that CA for id-kp-OCSPSigning. Returns a reason when the signature cannot be trusted.
 */
export function checkOcspSigner(response: ParsedOcspResponse, issuerDer: Buffer): string | null {
  if (signedBy(response, issuerDer)) return null;
  const issuer = new X509Certificate(issuerDer);
  for (const cert of response.certificates) {
    try {
      const candidate = new X509Certificate(cert);
      if (!candidate.checkIssued(issuer) || !certificateSignedBy(candidate, issuer)) continue;
      if (!extendedKeyUsage(readCertFields(cert))?.includes(OCSP.signingEku)) continue;
      const now = new Date();
      if (now < new Date(candidate.validFrom) || now > new Date(candidate.validTo)) continue;
      if (signedBy(response, cert)) return null;
    } catch {
      // unreadable certificates cannot authorise anything
    }
  }
  return 'the OCSP response is not signed by the certificate issuer or a responder it authorised';
}

/** OCSP responder URLs from a certificate's authorityInfoAccess. */
export function ocspUrls(certDer: Buffer): string[] {
  return authorityInfoAccessUris(readCertFields(certDer), OCSP.accessMethod).filter((u) => /^https?:\/\//.test(u));
}
