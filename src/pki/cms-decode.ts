/**
 * Decodes a CMS ContentInfo with asn1js, except for the certificates of its SignedData.
 *
 * asn1js builds several objects per element, and certificates are most of the elements of a
 * signature: the same few certificates in every signature. So when the input has the shape of a
 * SignedData with certificates, its outer elements are framed here (ber-frame.ts), every other
 * element is decoded by asn1js on its own, the certificate set stands in as an empty [0] (the
 * SignedData schema does not look inside it), and each distinct certificate is decoded once per
 * process, to reject what asn1js would have rejected. The signer infos are put together the same
 * way from their elements: those that recur from signature to signature (signer identifier,
 * algorithms, most signed attributes) are decoded once per distinct encoding. Input of any other
 * shape, or that the framing does not read, is decoded whole as before.
 *
 * A stand-in is an asn1js element built around elements asn1js decoded: schemas and readers see
 * the same tags, children and original bytes as in a whole decoding.
 */
import * as asn1js from 'asn1js';
import { Asn1Error, decodeBer, type Block, type DecodeLimits } from './asn1.js';
import { countElements, elementsIn, isContextConstructed, isUniversalElement, readElement, type BerElement } from './ber-frame.js';
import { DerCache } from './der-cache.js';

export interface DecodedContentInfo {
  root: Block;
  /** The certificate set's elements (end-of-contents markers left out), when it was framed here. */
  certificates?: Buffer[];
}

const decodedCertificates = new DerCache<true>(1_000);
/** Decoded from a copy, so that a cached element keeps no larger input alive. */
const recurringElements = new DerCache<Block>(1_000);

interface Frame {
  root: BerElement;
  top: BerElement[];
  wrapper: BerElement[];
  signedData: BerElement[];
  certificateSet: BerElement;
}

function frame(bytes: Buffer, limits: DecodeLimits): Frame | undefined {
  try {
    const root = readElement(bytes, 0, bytes.length);
    if (!isUniversalElement(root, 16, true)) return undefined;
    const top = elementsIn(bytes, root);
    if (!top[1] || !isContextConstructed(top[1], 0)) return undefined;
    const wrapper = elementsIn(bytes, top[1]);
    if (!wrapper[0] || !isUniversalElement(wrapper[0], 16, true)) return undefined;
    const signedData = elementsIn(bytes, wrapper[0]);
    const certificateSet = signedData[3];
    if (!certificateSet || !isContextConstructed(certificateSet, 0)) return undefined;
    // The whole structure within the limits asn1js would have applied to it.
    countElements(bytes, root, limits.maxNodes);
    return { root, top, wrapper, signedData, certificateSet };
  } catch (err) {
    if (err instanceof Asn1Error) return undefined;
    throw err;
  }
}

function standIn<T extends Block>(block: T, bytes: Buffer, element: BerElement): T {
  block.valueBeforeDecodeView = bytes.subarray(element.start, element.end);
  return block;
}

function contextStandIn(bytes: Buffer, element: BerElement, value: Block[]): Block {
  return standIn(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: element.tagNumber }, value }), bytes, element);
}

/** SignerInfos: each SignerInfo SEQUENCE from its elements, its signed attributes one by one. */
function signerInfosStandIn(bytes: Buffer, set: BerElement, decode: (der: Buffer) => Block): Block {
  const piece = (element: BerElement): Block => decode(bytes.subarray(element.start, element.end));
  const recurring = (element: BerElement): Block => {
    const der = bytes.subarray(element.start, element.end);
    return recurringElements.get(der, () => decode(Buffer.from(der)));
  };
  const signerInfo = (element: BerElement): Block => {
    if (!isUniversalElement(element, 16, true)) return piece(element);
    const value = elementsIn(bytes, element).map((part) => {
      if (isContextConstructed(part, 0)) return contextStandIn(bytes, part, elementsIn(bytes, part).map(recurring));
      // The signature value, the version and the unsigned attributes (time-stamp tokens) are the signature's own.
      return part.constructed && part.tagClass === 1 ? recurring(part) : piece(part);
    });
    return standIn(new asn1js.Sequence({ value }), bytes, element);
  };
  return standIn(new asn1js.Set({ value: elementsIn(bytes, set).map(signerInfo) }), bytes, set);
}

export function decodeContentInfo(bytes: Buffer, what: string, limits: DecodeLimits): DecodedContentInfo {
  const framed = bytes.length > 0 && bytes.length <= limits.maxBytes ? frame(bytes, limits) : undefined;
  if (!framed) return { root: decodeBer(bytes, what, limits, true) };
  const { top, wrapper, signedData, certificateSet } = framed;
  const decode = (der: Buffer): Block => decodeBer(der, what, limits);
  const piece = (element: BerElement): Block => decode(bytes.subarray(element.start, element.end));
  // In the order of the input, so that the first malformed element is the one reported.
  const contentType = piece(top[0]!);
  const certificates: Buffer[] = [];
  const signedDataParts = signedData.map((element, k) => {
    if (k > 3 && isUniversalElement(element, 17, true)) return signerInfosStandIn(bytes, element, decode);
    if (k !== 3) return piece(element);
    for (const cert of elementsIn(bytes, certificateSet)) {
      const der = bytes.subarray(cert.start, cert.end);
      decodedCertificates.get(der, () => (decodeBer(der, what, limits), true));
      if (!(cert.tagClass === 1 && cert.tagNumber === 0)) certificates.push(der);
    }
    return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 } });
  });
  const signedDataBlock = new asn1js.Sequence({ value: signedDataParts });
  const wrapperBlock = new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [signedDataBlock, ...wrapper.slice(1).map(piece)] });
  return { root: new asn1js.Sequence({ value: [contentType, wrapperBlock, ...top.slice(2).map(piece)] }), certificates };
}
