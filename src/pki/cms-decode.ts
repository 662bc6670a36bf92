/**
 * Decodes a CMS ContentInfo with asn1js, except for the certificates of its SignedData.
 *
 * asn1js builds several objects per element, and certificates are most of the elements of a
 * signature: the same few certificates in every signature. So when the input has the shape of a
 * SignedData with certificates, its outer elements are framed here (ber-frame.ts), every other
 * element is decoded by asn1js on its own, the certificate set stands in as an empty [0] (the
 * SignedData schema does not look inside it), and each distinct certificate is decoded once per
 * process, to reject what asn1js would have rejected. Input of any other shape, or that the
 * framing does not read, is decoded whole as before.
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
    if (!isContextConstructed(top[1], 0)) return undefined;
    const wrapper = elementsIn(bytes, top[1]);
    if (!isUniversalElement(wrapper[0], 16, true)) return undefined;
    const signedData = elementsIn(bytes, wrapper[0]);
    const certificateSet = signedData[3];
    if (!isContextConstructed(certificateSet, 0)) return undefined;
    // The whole structure within the limits asn1js would have applied to it.
    countElements(bytes, root, limits.maxNodes);
    return { root, top, wrapper, signedData, certificateSet };
  } catch (err) {
    if (err instanceof Asn1Error) return undefined;
    throw err;
  }
}

export function decodeContentInfo(bytes: Buffer, what: string, limits: DecodeLimits): DecodedContentInfo {
  const framed = bytes.length > 0 && bytes.length <= limits.maxBytes ? frame(bytes, limits) : undefined;
  if (!framed) return { root: decodeBer(bytes, what, limits, true) };
  const { top, wrapper, signedData, certificateSet } = framed;
  const piece = (element: BerElement): Block => decodeBer(bytes.subarray(element.start, element.end), what, limits);
  // In the order of the input, so that the first malformed element is the one reported.
  const contentType = piece(top[0]!);
  const certificates: Buffer[] = [];
  const signedDataParts = signedData.map((element, k) => {
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
