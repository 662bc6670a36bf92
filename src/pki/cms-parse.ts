/**
 * Reads CMS SignedData (RFC 5652) from PDF signatures and timestamp tokens.
 *
 * Decoding is asn1js (BER: indefinite lengths, constructed OCTET STRINGs, as `openssl cms
 * -stream`, Java signers and many products write them); ContentInfo, AlgorithmIdentifier,
 * IssuerAndSerialNumber and Attribute are pkijs classes. SignedData and SignerInfo are matched
 * with asn1js schemas of our own, because pkijs's insist on primitive strings (a BER signature
 * value or message digest may be constructed) and parse every embedded certificate, where we
 * keep certificates as the bytes sent. The signed attributes are kept exactly as sent, and in
 * their DER encoding when they came in BER (RFC 5652 5.4: the signature is over the DER SET OF).
 */
import { decodeContentInfo } from './cms-decode.js';
import { tlv } from './der.js';
import { DerCache } from './der-cache.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { Asn1Error, elementsOf, integerHex, isParseFailure, isUniversal, matchSchema, octetsOf, oidOf, rawOf, smallInteger, stringContents, toDer, type Block } from './asn1.js';
import { digestNameOf, SHAKE256_LEN } from './digests.js';
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

/** Bounds on what one CMS may hold. */
export const CMS_LIMITS = {
  maxBytes: 16 * 1024 * 1024,
  maxNodes: 500_000,
  maxCertificates: 256,
  maxSigners: 16,
  maxAttributes: 64,
  maxAttributeValues: 16,
} as const;

/** One attribute value: its encoding as sent and the decoded element. */
export interface AttributeValue {
  readonly raw: Buffer;
  readonly block: Block;
}

export interface ParsedSignerInfo {
  sid: { kind: 'issuerSerial'; issuerDer: Buffer; serialHex: string } | { kind: 'ski'; keyIdHex: string };
  /** The digest algorithm's name (see digests.ts), or its OID when unknown. */
  digestAlgorithm: string;
  digestAlgorithmOid: string;
  /** The signed attributes as the DER SET OF the signature is over (RFC 5652 5.4). */
  signedAttrsDer: Buffer | null;
  /** The signed attributes as sent, re-tagged as SET (0x31); differs from signedAttrsDer when sent in BER. */
  signedAttrsAsSent: Buffer | null;
  signedAttrsEncoding: 'der' | 'ber' | null;
  signedAttrsInDerOrder: boolean;
  /** When the attributes are not in DER order: their DER SET OF sorted as DER requires. */
  signedAttrsDerSorted: Buffer | null;
  signedAttrs: Map<string, AttributeValue[]>;
  signatureAlgorithm: { oid: string; params: Block | undefined };
  signature: Buffer;
  unsignedAttrs: Map<string, AttributeValue[]>;
}

export interface ParsedSignedData {
  certificates: Buffer[];
  eContentType: string;
  encapsulatedContent: Buffer | null;
  signers: ParsedSignerInfo[];
}

const signedDataSchema = (): asn1js.Sequence =>
  new asn1js.Sequence({
    value: [
      new asn1js.Integer({ name: 'version' }),
      new asn1js.Set({ name: 'digestAlgorithms' }),
      new asn1js.Sequence({
        name: 'encap',
        value: [new asn1js.ObjectIdentifier({ name: 'eContentType' }), new asn1js.Constructed({ optional: true, idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Any({ name: 'eContent' })] })],
      }),
      new asn1js.Constructed({ name: 'certificates', optional: true, idBlock: { tagClass: 3, tagNumber: 0 } }),
      new asn1js.Constructed({ name: 'crls', optional: true, idBlock: { tagClass: 3, tagNumber: 1 } }),
      new asn1js.Set({ name: 'signerInfos' }),
    ],
  });

const signerInfoSchema = (): asn1js.Sequence =>
  new asn1js.Sequence({
    value: [
      new asn1js.Integer({ name: 'version' }),
      new asn1js.Any({ name: 'sid' }),
      new asn1js.Sequence({ name: 'digestAlgorithm' }),
      new asn1js.Constructed({ name: 'signedAttrs', optional: true, idBlock: { tagClass: 3, tagNumber: 0 } }),
      new asn1js.Sequence({ name: 'signatureAlgorithm' }),
      new asn1js.Any({ name: 'signature' }),
      new asn1js.Constructed({ name: 'unsignedAttrs', optional: true, idBlock: { tagClass: 3, tagNumber: 1 } }),
    ],
  });

/**
 * What is read from an element, kept with the element: the elements that recur from signature to
 * signature are shared (cms-decode.ts), so each is read once. Only results are kept, never errors.
 */
function readOnce<T>(read: (block: Block) => T): (block: Block) => T {
  const known = new WeakMap<Block, T>();
  return (block) => {
    let value = known.get(block);
    if (value === undefined) {
      value = read(block);
      known.set(block, value);
    }
    return value;
  };
}

const attributeOf = readOnce((element) => {
  const attribute = new pkijs.Attribute({ schema: element });
  if (attribute.values.length > CMS_LIMITS.maxAttributeValues) throw new CmsError('MALFORMED', `the attribute ${attribute.type} has too many values`);
  return { type: attribute.type, values: (attribute.values as Block[]).map((v): AttributeValue => ({ raw: rawOf(v), block: v })) };
});

const algorithmOf = readOnce((element) => {
  const algorithm = new pkijs.AlgorithmIdentifier({ schema: element });
  return { oid: algorithm.algorithmId, params: algorithm.algorithmParams as Block | undefined };
});

const derOf = readOnce((element) => toDer(element));

function attributes(block: Block, signed: boolean): Map<string, AttributeValue[]> {
  const map = new Map<string, AttributeValue[]>();
  for (const element of elementsOf(block, CMS_LIMITS.maxAttributes, signed ? 'signed attributes' : 'unsigned attributes')) {
    const attribute = attributeOf(element);
    if (signed && map.has(attribute.type)) throw new CmsError('MALFORMED', `the signed attributes contain ${attribute.type} twice`);
    map.set(attribute.type, [...(map.get(attribute.type) ?? []), ...attribute.values]);
  }
  return map;
}

const signerId = readOnce((sid): ParsedSignerInfo['sid'] => {
  if (isUniversal(sid, 16)) {
    const ias = new pkijs.IssuerAndSerialNumber({ schema: sid });
    return { kind: 'issuerSerial', issuerDer: Buffer.from(ias.issuer.valueBeforeDecode), serialHex: integerHex(ias.serialNumber, 'signer serial number') };
  }
  if (sid.idBlock.tagClass === 3 && sid.idBlock.tagNumber === 0) return { kind: 'ski', keyIdHex: stringContents(sid).toString('hex') };
  throw new CmsError('MALFORMED', 'the signer identifier is neither issuer and serial number nor a key identifier');
});

type SignedAttributes = Pick<ParsedSignerInfo, 'signedAttrsDer' | 'signedAttrsAsSent' | 'signedAttrsEncoding' | 'signedAttrsInDerOrder' | 'signedAttrsDerSorted' | 'signedAttrs'>;

function signedAttributes(block: Block): SignedAttributes {
  const signedAttrs = attributes(block, true);
  const asSent = Buffer.from(rawOf(block));
  asSent[0] = 0x31; // [0] IMPLICIT -> SET OF: the tag is one byte either way
  const encodings = elementsOf(block, CMS_LIMITS.maxAttributes, 'signed attributes').map(derOf);
  const inOrder = encodings.every((e, k) => k === 0 || Buffer.compare(encodings[k - 1]!, e) <= 0);
  const body = Buffer.concat(encodings);
  const der = tlv(0x31, body); // toDer of the [0] IMPLICIT element, tagged as the SET OF it stands for
  return {
    signedAttrs,
    signedAttrsAsSent: asSent,
    signedAttrsDer: der,
    signedAttrsEncoding: der.equals(asSent) ? 'der' : 'ber',
    signedAttrsInDerOrder: inOrder,
    // Same length as `der`, so its SET header stays valid.
    signedAttrsDerSorted: inOrder ? null : Buffer.concat([der.subarray(0, der.length - body.length), ...[...encodings].sort(Buffer.compare)]),
  };
}

function parseSignerInfo(block: Block): ParsedSignerInfo {
  const named = matchSchema(block, signerInfoSchema(), 'signer information');
  const { oid: digestAlgorithmOid, params: digestParams } = algorithmOf(named.digestAlgorithm!);
  const outputBits = digestAlgorithmOid === SHAKE256_LEN && digestParams ? smallInteger(digestParams, 'SHAKE256 output length') : undefined;
  const attrs = named.signedAttrs
    ? signedAttributes(named.signedAttrs)
    : { signedAttrs: new Map<string, AttributeValue[]>(), signedAttrsAsSent: null, signedAttrsDer: null, signedAttrsEncoding: null, signedAttrsInDerOrder: true, signedAttrsDerSorted: null };
  return {
    sid: signerId(named.sid!),
    digestAlgorithm: digestNameOf(digestAlgorithmOid, outputBits) ?? digestAlgorithmOid,
    digestAlgorithmOid,
    ...attrs,
    signatureAlgorithm: { ...algorithmOf(named.signatureAlgorithm!) },
    signature: octetsOf(named.signature!, 'signature value'),
    unsignedAttrs: named.unsignedAttrs ? attributes(named.unsignedAttrs, false) : new Map<string, AttributeValue[]>(),
  };
}

/** The certificate set's certificates as sent; attribute and other certificate formats are not used here. */
function certificatesOf(set: Block | undefined, framed: Buffer[] | undefined): Buffer[] {
  if (framed) {
    if (framed.length > CMS_LIMITS.maxCertificates) throw new Asn1Error(`the certificate set has more than ${CMS_LIMITS.maxCertificates} elements`);
    return framed.filter((der) => (der[0]! & 0xdf) === 0x10); // universal 16, as asn1js reads a one-byte tag
  }
  return set ? elementsOf(set, CMS_LIMITS.maxCertificates, 'certificate set').filter((c) => isUniversal(c, 16)).map(rawOf) : [];
}

function parseUnchecked(bytes: Buffer): ParsedSignedData {
  const { root, certificates: framedCertificates } = decodeContentInfo(bytes, 'CMS structure', CMS_LIMITS);
  const contentInfo = new pkijs.ContentInfo({ schema: root });
  // GM/T 0010 names SignedData with its own OID; the structure is the same.
  if (contentInfo.contentType !== OID.signedData && contentInfo.contentType !== OID.gmSignedData) throw new CmsError('NOT_SIGNED_DATA', 'the CMS is not SignedData');
  const named = matchSchema(contentInfo.content as Block, signedDataSchema(), 'SignedData');
  const eContentType = oidOf(named.eContentType!, 'encapsulated content type');
  const encapsulatedContent = named.eContent ? octetsOf(named.eContent, 'encapsulated content') : null;
  const certificates = certificatesOf(named.certificates, framedCertificates);
  const signers = elementsOf(named.signerInfos!, CMS_LIMITS.maxSigners, 'signer infos').map(parseSignerInfo);
  if (signers.length === 0) throw new CmsError('NO_SIGNER', 'the CMS has no signer');
  return { certificates, eContentType, encapsulatedContent, signers };
}

/**
 * Recently parsed signatures, by their exact bytes: the same signed document is verified again
 * and again (every citizen who opens a licence's page), and asn1js takes milliseconds per CMS.
 * The result depends on nothing but the bytes and is frozen, so sharing it is safe.
 */
const recentlyParsed = new DerCache<ParsedSignedData>(64, 64 * 1024);

/** Parses CMS SignedData in DER or BER (a PDF's /Contents: padding allowed after it). */
export function parseSignedData(bytes: Buffer): ParsedSignedData {
  return recentlyParsed.get(bytes, () => parseChecked(bytes));
}

function parseChecked(bytes: Buffer): ParsedSignedData {
  try {
    const parsed = parseUnchecked(bytes);
    Object.freeze(parsed.certificates);
    Object.freeze(parsed.signers);
    return Object.freeze(parsed);
  } catch (err) {
    if (err instanceof CmsError) throw err;
    if (isParseFailure(err)) throw new CmsError('MALFORMED', `the CMS is malformed: ${err.message}`);
    throw err;
  }
}
