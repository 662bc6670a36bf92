import { createHash, createPublicKey, randomBytes, verify, X509Certificate } from 'node:crypto';
import { extendedKeyUsage, readCertFields } from '../pki/cert-fields.js';
import { algorithmId, children, contextTag, decodeOid, integer, octetString, oid, readNode, sequence, type DerNode } from '../pki/der.js';
import { OID } from '../pki/oids.js';

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

const HASH_BY_OID: Record<string, string> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };
const SIG_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
};

export interface CertId {
  hashAlgorithm: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serialHex: string;
}

/** The subjectPublicKey bits of a certificate (what issuerKeyHash is computed over). */
export function publicKeyBits(certDer: Buffer): Buffer {
  const spki = children(readNode(readCertFields(certDer).spkiDer));
  return spki[1]!.content.subarray(1);
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

export function decodeCertId(node: DerNode): CertId {
  const [alg, nameHash, keyHash, serial] = children(node);
  return {
    hashAlgorithm: HASH_BY_OID[decodeOid(children(alg!)[0]!)] ?? 'unknown',
    issuerNameHash: nameHash!.content,
    issuerKeyHash: keyHash!.content,
    serialHex: serial!.content.toString('hex').replace(/^(00)+(?=.)/, ''),
  };
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
  signature?: Buffer;
  responderId?: { byName?: Buffer; byKeyHash?: Buffer };
}

function generalizedTime(node: DerNode): Date {
  const t = node.content.toString('latin1');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(t);
  if (!m) throw new OcspError('bad time in OCSP response');
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`);
}

export function parseOcspResponse(der: Buffer): ParsedOcspResponse {
  try {
    const top = children(readNode(der));
    const responseStatus = top[0]!.content[0] ?? 255;
    if (responseStatus !== 0 || !top[1]) return { responseStatus, responses: [], certificates: [] };
    const [type, octets] = children(children(top[1])[0]!);
    if (decodeOid(type!) !== OCSP.basic) throw new OcspError('not a basic OCSP response');
    const basic = children(readNode(octets!.content));
    const tbs = basic[0]!;
    const fields = children(tbs);
    let i = fields[0]?.tag === 0xa0 ? 1 : 0;
    const responder = fields[i++]!;
    const producedAt = generalizedTime(fields[i++]!);
    const responses: SingleStatus[] = children(fields[i++]!).map((single) => {
      const parts = children(single);
      const certId = decodeCertId(parts[0]!);
      const statusNode = parts[1]!;
      const thisUpdate = generalizedTime(parts[2]!);
      const next = parts.slice(3).find((p) => p.tag === 0xa0);
      const base = { certId, thisUpdate, nextUpdate: next ? generalizedTime(children(next)[0]!) : null };
      if (statusNode.tag === 0x80) return { ...base, status: 'good' as const };
      if (statusNode.tag === 0xa1) {
        const info = children(statusNode);
        const reasonNode = info.find((n) => n.tag === 0xa0);
        return { ...base, status: 'revoked' as const, revokedAt: generalizedTime(info[0]!), reason: reasonNode ? children(reasonNode)[0]!.content[0] : undefined };
      }
      return { ...base, status: 'unknown' as const };
    });
    let nonce: Buffer | undefined;
    const exts = fields.slice(i).find((f) => f.tag === 0xa1);
    if (exts) {
      for (const ext of children(children(exts)[0]!)) {
        const parts = children(ext);
        if (decodeOid(parts[0]!) === OCSP.nonce) {
          const value = parts[parts.length - 1]!.content;
          const inner = readNode(value);
          nonce = inner.tag === 0x04 ? inner.content : value;
        }
      }
    }
    const certsNode = basic.find((n) => n.tag === 0xa0);
    return {
      responseStatus,
      producedAt,
      responses,
      nonce,
      certificates: certsNode ? children(children(certsNode)[0]!).map((c) => c.raw) : [],
      tbs: tbs.raw,
      signatureAlgorithm: decodeOid(children(basic[1]!)[0]!),
      signature: basic[2]!.content.subarray(1),
      responderId: responder.tag === 0xa1 ? { byName: children(responder)[0]!.raw } : { byKeyHash: children(responder)[0]!.content },
    };
  } catch (err) {
    if (err instanceof OcspError) throw err;
    throw new OcspError(`the OCSP response cannot be parsed: ${(err as Error).message}`);
  }
}

function signedBy(response: ParsedOcspResponse, signerDer: Buffer): boolean {
  const hash = SIG_HASH[response.signatureAlgorithm ?? ''];
  if (!hash || !response.tbs || !response.signature) return false;
  try {
    const key = createPublicKey(new X509Certificate(signerDer).publicKey.export({ format: 'pem', type: 'spki' }));
    return verify(hash, response.tbs, key, response.signature);
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
      if (!candidate.checkIssued(issuer) || !candidate.verify(issuer.publicKey)) continue;
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
  const ext = readCertFields(certDer).extensions.get(OCSP.aia);
  if (!ext) return [];
  const urls: string[] = [];
  for (const access of children(readNode(ext.value))) {
    const [method, location] = children(access);
    if (decodeOid(method!) === OCSP.accessMethod && location?.tag === 0x86) urls.push(location.content.toString('latin1'));
  }
  return urls.filter((u) => /^https?:\/\//.test(u));
}
