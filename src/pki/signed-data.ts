import { createHash, createVerify, constants, X509Certificate, type KeyObject } from 'node:crypto';
import { readCertFields, subjectKeyIdentifier } from './cert-fields.js';
import { children, decodeOid, DerError, readNode, type DerNode } from './der.js';
import { OID } from './oids.js';

export type CmsErrorCode = 'MALFORMED' | 'NOT_SIGNED_DATA' | 'NO_SIGNER' | 'UNSUPPORTED';

export class CmsError extends Error {
  override name = 'CmsError';
  constructor(
    readonly code: CmsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const DIGEST_NAMES: Record<string, string> = {
  [OID.sha1]: 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
  '1.2.156.10197.1.401': 'sm3',
};

const RSA_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
};
const ECDSA_HASH: Record<string, string> = {
  '1.2.840.10045.4.1': 'sha1',
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
};
const RSA_PSS = '1.2.840.113549.1.1.10';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

export interface ParsedSignerInfo {
  sid: { kind: 'issuerSerial'; issuerDer: Buffer; serialHex: string } | { kind: 'ski'; keyIdHex: string };
  digestAlgorithm: string;
  /** The signed attributes re-tagged as SET (0x31): the bytes the signature is over. */
  signedAttrsDer: Buffer | null;
  signedAttrsInDerOrder: boolean;
  signedAttrs: Map<string, DerNode[]>;
  signatureAlgorithm: { oid: string; params: DerNode | undefined };
  signature: Buffer;
  unsignedAttrs: Map<string, DerNode[]>;
}

export interface ParsedSignedData {
  certificates: Buffer[];
  eContentType: string;
  encapsulatedContent: Buffer | null;
  signers: ParsedSignerInfo[];
}

const serialHexOf = (node: DerNode): string => node.content.toString('hex').replace(/^(00)+(?=.)/, '');

function attributes(node: DerNode): Map<string, DerNode[]> {
  const map = new Map<string, DerNode[]>();
  for (const attr of children(node)) {
    const [type, values] = children(attr);
    if (!type || !values) throw new CmsError('MALFORMED', 'bad attribute');
    map.set(decodeOid(type), children(values));
  }
  return map;
}

function parseSignerInfo(node: DerNode): ParsedSignerInfo {
  const parts = children(node);
  let i = 1; // version
  const sidNode = parts[i++]!;
  let sid: ParsedSignerInfo['sid'];
  if (sidNode.tag === 0x30) {
    const [issuer, serial] = children(sidNode);
    sid = { kind: 'issuerSerial', issuerDer: issuer!.raw, serialHex: serialHexOf(serial!) };
  } else if (sidNode.tag === 0x80) {
    sid = { kind: 'ski', keyIdHex: sidNode.content.toString('hex') };
  } else throw new CmsError('MALFORMED', 'bad signer identifier');
  const digestAlgOid = decodeOid(children(parts[i++]!)[0]!);
  let signedAttrsDer: Buffer | null = null;
  let signedAttrs = new Map<string, DerNode[]>();
  let inOrder = true;
  if (parts[i]?.tag === 0xa0) {
    const raw = Buffer.from(parts[i]!.raw);
    raw[0] = 0x31;
    signedAttrsDer = raw;
    const setNode = readNode(raw);
    signedAttrs = attributes(setNode);
    const encodings = children(setNode).map((c) => c.raw);
    inOrder = encodings.every((e, k) => k === 0 || Buffer.compare(encodings[k - 1]!, e) <= 0);
    i++;
  }
  const sigAlgParts = children(parts[i++]!);
  const signature = parts[i++]!;
  if (signature.tag !== 0x04) throw new CmsError('MALFORMED', 'bad signature value');
  const unsignedAttrs = parts[i]?.tag === 0xa1 ? attributes(parts[i]!) : new Map<string, DerNode[]>();
  return {
    sid,
    digestAlgorithm: DIGEST_NAMES[digestAlgOid] ?? digestAlgOid,
    signedAttrsDer,
    signedAttrsInDerOrder: inOrder,
    signedAttrs,
    signatureAlgorithm: { oid: decodeOid(sigAlgParts[0]!), params: sigAlgParts[1] },
    signature: signature.content,
    unsignedAttrs,
  };
}

/** Parses CMS SignedData (a PDF's /Contents, zero padding allowed after it). */
export function parseSignedData(der: Buffer): ParsedSignedData {
  try {
    const contentInfo = readNode(der);
    const rest = der.subarray(contentInfo.raw.length);
    if (rest.some((b) => b !== 0)) throw new CmsError('MALFORMED', 'data after the CMS structure');
    const [type, content] = children(contentInfo);
    if (!type || decodeOid(type) !== OID.signedData || !content) throw new CmsError('NOT_SIGNED_DATA', 'the CMS is not SignedData');
    const signedData = children(children(content)[0]!);
    let i = 2; // version, digestAlgorithms
    const encap = children(signedData[i++]!);
    const eContentType = decodeOid(encap[0]!);
    let encapsulatedContent: Buffer | null = null;
    if (encap[1]) {
      const octets = children(encap[1])[0]!;
      encapsulatedContent = octets.constructed ? Buffer.concat(children(octets).map((c) => c.content)) : octets.content;
    }
    const certificates: Buffer[] = [];
    if (signedData[i]?.tag === 0xa0) {
      for (const cert of children(signedData[i]!)) if (cert.tag === 0x30) certificates.push(cert.raw);
      i++;
    }
    if (signedData[i]?.tag === 0xa1) i++;
    const signerInfos = signedData[i];
    if (!signerInfos || signerInfos.tag !== 0x31) throw new CmsError('MALFORMED', 'no signerInfos');
    const signers = children(signerInfos).map(parseSignerInfo);
    if (signers.length === 0) throw new CmsError('NO_SIGNER', 'the CMS has no signer');
    return { certificates, eContentType, encapsulatedContent, signers };
  } catch (err) {
    if (err instanceof CmsError) throw err;
    if (err instanceof DerError || err instanceof TypeError || err instanceof RangeError) throw new CmsError('MALFORMED', `the CMS is malformed: ${err.message}`);
    throw err;
  }
}

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
        const hash = createHash(algorithm);
        for (const c of chunks) hash.update(c);
        d = hash.digest();
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
  signatureValid: boolean | null;
  signatureAlgorithm: { name: 'RSA-PKCS1' | 'RSA-PSS' | 'ECDSA' | 'unknown'; hash: string; keyBits?: number };
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

function pssParams(params: DerNode | undefined): { hash: string; saltLength: number } {
  let hash = 'sha1';
  let saltLength = 20;
  if (params && params.tag === 0x30) {
    for (const p of children(params)) {
      if (p.tag === 0xa0) hash = DIGEST_NAMES[decodeOid(children(children(p)[0]!)[0]!)] ?? hash;
      if (p.tag === 0xa2) saltLength = readNode(p.content).content.readUIntBE(0, Math.min(6, readNode(p.content).content.length));
    }
  }
  return { hash, saltLength };
}

function time(node: DerNode | undefined): Date | null {
  if (!node) return null;
  const t = node.content.toString('latin1');
  if (node.tag === 0x17) return new Date(`${Number(t.slice(0, 2)) < 50 ? 20 : 19}${t.slice(0, 2)}-${t.slice(2, 4)}-${t.slice(4, 6)}T${t.slice(6, 8)}:${t.slice(8, 10)}:${t.slice(10, 12)}Z`);
  if (node.tag === 0x18) return new Date(`${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}Z`);
  return null;
}

function verifySignature(data: Buffer[], key: KeyObject, hash: string, name: string, signature: Buffer, pss?: { saltLength: number }): boolean {
  try {
    const verifier = createVerify(hash);
    for (const d of data) verifier.update(d);
    if (name === 'RSA-PSS') return verifier.verify({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss!.saltLength }, signature);
    return verifier.verify(key, signature);
  } catch {
    return false;
  }
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
    if (!(err instanceof DerError || err instanceof TypeError || err instanceof RangeError)) throw err;
    // A malformed attribute or certificate inside the signature is a failed signature, not a crash.
    return {
      signerCertificate: null,
      digestAlgorithm: signer.digestAlgorithm,
      messageDigestMatches: null,
      signatureValid: false,
      signatureAlgorithm: { name: 'unknown', hash: signer.digestAlgorithm },
      weakAlgorithms: [],
      signingCertificateAttribute: { version: null, matches: null },
      signedAttrsReordered: false,
      claimedSigningTime: null,
      timestampTokens: [],
      problems: [`the signer information is malformed: ${err.message}`],
    };
  }
}

function verifySignerInfoUnchecked(parsed: ParsedSignedData, signer: ParsedSignerInfo, content: SignedContent, extraCertificates: Buffer[]): SignerVerification {
  const problems: string[] = [];
  const weak: string[] = [];
  const result: SignerVerification = {
    signerCertificate: findSigner(signer, [...parsed.certificates, ...extraCertificates]),
    digestAlgorithm: signer.digestAlgorithm,
    messageDigestMatches: null,
    signatureValid: null,
    signatureAlgorithm: { name: 'unknown', hash: signer.digestAlgorithm },
    weakAlgorithms: weak,
    signingCertificateAttribute: { version: null, matches: null },
    signedAttrsReordered: false,
    claimedSigningTime: time(signer.signedAttrs.get(OID.signingTime)?.[0]),
    timestampTokens: (signer.unsignedAttrs.get(OID.signatureTimeStampToken) ?? []).map((n) => n.raw),
    problems,
  };
  if (!Object.values(DIGEST_NAMES).includes(signer.digestAlgorithm)) {
    problems.push(`unsupported digest algorithm ${signer.digestAlgorithm}`);
    return result;
  }
  if (signer.digestAlgorithm === 'sha1') weak.push('sha1');

  // adbe.pkcs7.sha1: the encapsulated content is the SHA-1 digest of the signed ranges.
  let signedContentDigest: (alg: string) => Buffer = (alg) => content.digest(alg);
  if (parsed.encapsulatedContent) {
    const eContent = parsed.encapsulatedContent;
    if (eContent.length === 20 && !eContent.equals(content.digest('sha1'))) problems.push('the encapsulated SHA-1 digest does not match the signed ranges');
    const matchesRanges = eContent.length !== 20 || eContent.equals(content.digest('sha1'));
    signedContentDigest = (alg) => (matchesRanges ? createHash(alg).update(eContent).digest() : Buffer.alloc(0));
    if (!weak.includes('sha1') && eContent.length === 20) weak.push('sha1');
  }

  if (signer.signedAttrsDer) {
    const md = signer.signedAttrs.get(OID.messageDigest)?.[0];
    const ct = signer.signedAttrs.get(OID.contentType)?.[0];
    if (!md) problems.push('the signed attributes have no message-digest');
    else {
      result.messageDigestMatches = md.content.equals(signedContentDigest(signer.digestAlgorithm));
      if (!result.messageDigestMatches) problems.push('the message digest does not match the signed content: the document was altered');
    }
    if (!ct) problems.push('the signed attributes have no content-type');
  }

  const { oid, params } = signer.signatureAlgorithm;
  if (!result.signerCertificate && signer.sid.kind === 'issuerSerial') {
    // Some signers re-encode the issuer name (e.g. UTF-8 twice); accept a certificate with the
    // same serial number only when the signature verifies with its key.
    const serial = signer.sid.serialHex;
    const candidates = [...parsed.certificates, ...extraCertificates].filter((c) => {
      try {
        return readCertFields(c).serialHex === serial;
      } catch {
        return false;
      }
    });
    const data = signer.signedAttrsDer ? [signer.signedAttrsDer] : content.chunks();
    const hashGuess = RSA_HASH[oid] ?? ECDSA_HASH[oid] ?? signer.digestAlgorithm;
    const keyOf = (c: Buffer): KeyObject | undefined => {
      try {
        return new X509Certificate(c).publicKey;
      } catch {
        return undefined;
      }
    };
    const match = candidates.find((c) => keyOf(c) !== undefined && verifySignature(data, keyOf(c)!, hashGuess, oid === RSA_PSS ? 'RSA-PSS' : 'other', signer.signature, oid === RSA_PSS ? { saltLength: pssParams(params).saltLength } : undefined));
    if (match) {
      result.signerCertificate = match;
      problems.push("the signer identifier's issuer name does not match the certificate's byte for byte; the certificate was identified by its serial number and the signature");
    }
  }
  const certDer = result.signerCertificate;
  if (!certDer) {
    problems.push('the signer certificate is not in the signature');
    return result;
  }
  let key: KeyObject;
  try {
    key = new X509Certificate(certDer).publicKey;
  } catch {
    problems.push('the signer certificate cannot be decoded');
    return result;
  }
  const keyBits = key.asymmetricKeyDetails?.modulusLength;
  let name: SignerVerification['signatureAlgorithm']['name'] = 'unknown';
  let hash = signer.digestAlgorithm;
  let pss: { saltLength: number } | undefined;
  if (oid === OID.rsaEncryption || RSA_HASH[oid]) {
    name = 'RSA-PKCS1';
    hash = RSA_HASH[oid] ?? signer.digestAlgorithm;
  } else if (oid === RSA_PSS) {
    name = 'RSA-PSS';
    const p = pssParams(params);
    hash = p.hash;
    pss = { saltLength: p.saltLength };
  } else if (ECDSA_HASH[oid] || oid === EC_PUBLIC_KEY) {
    name = 'ECDSA';
    hash = ECDSA_HASH[oid] ?? signer.digestAlgorithm;
  }
  result.signatureAlgorithm = { name, hash, ...(keyBits ? { keyBits } : {}) };
  if (name === 'unknown') {
    problems.push(`unsupported signature algorithm ${oid}`);
    return result;
  }
  if (hash === 'sha1' && !weak.includes('sha1')) weak.push('sha1');
  if (keyBits !== undefined && keyBits < 2048) weak.push(`RSA-${keyBits}`);

  if (signer.signedAttrsDer) {
    result.signatureValid = verifySignature([signer.signedAttrsDer], key, hash, name, signer.signature, pss);
    if (!result.signatureValid && !signer.signedAttrsInDerOrder) {
      const setNode = readNode(signer.signedAttrsDer);
      const sorted = Buffer.concat([signer.signedAttrsDer.subarray(0, setNode.raw.length - setNode.content.length), ...children(setNode).map((c) => c.raw).sort(Buffer.compare)]);
      result.signatureValid = verifySignature([sorted], key, hash, name, signer.signature, pss);
      if (result.signatureValid) result.signedAttrsReordered = true;
    }
  } else {
    result.signatureValid = verifySignature(parsed.encapsulatedContent ? [parsed.encapsulatedContent] : content.chunks(), key, hash, name, signer.signature, pss);
    result.messageDigestMatches = result.signatureValid;
  }
  if (!result.signatureValid) problems.push('the signature value does not verify with the signer certificate');
  if (!signer.signedAttrsInDerOrder) problems.push(`the signed attributes are not in DER order; ${result.signedAttrsReordered ? 'they verified only after sorting' : 'they were verified as sent'}`);

  const v2 = signer.signedAttrs.get(OID.signingCertificateV2)?.[0];
  const v1 = signer.signedAttrs.get(OID.signingCertificate)?.[0];
  const essId = (v2 ?? v1) ? children(children(v2 ?? v1!)[0]!)[0] : undefined;
  if (essId) {
    const parts = children(essId);
    let k = 0;
    let algorithm = v2 ? 'sha256' : 'sha1';
    if (v2 && parts[0]?.tag === 0x30) algorithm = DIGEST_NAMES[decodeOid(children(parts[k++]!)[0]!)] ?? 'unknown';
    const certHash = parts[k++];
    let matches = algorithm !== 'unknown' && certHash !== undefined && certHash.content.equals(createHash(algorithm).update(certDer).digest());
    const issuerSerial = parts[k];
    if (matches && issuerSerial) {
      const [names, serial] = children(issuerSerial);
      const directory = children(names!).find((n) => n.tag === 0xa4);
      const fields = readCertFields(certDer);
      if (directory && !children(directory)[0]!.raw.equals(fields.issuerDer)) matches = false;
      if (serial && serialHexOf(serial) !== fields.serialHex) matches = false;
    }
    result.signingCertificateAttribute = { version: v2 ? 'v2' : 'v1', matches };
    if (!matches) problems.push('the signing-certificate attribute does not match the signer certificate');
  }
  return result;
}
