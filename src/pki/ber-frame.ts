/**
 * The framing of BER elements (tag, length, where the contents start and end) without decoding
 * them, for cms-decode.ts. Only the plain forms are read: one-byte tags, definite lengths of up
 * to four octets, indefinite lengths of constructed elements ended by 00 00. Anything else
 * throws Asn1Error, and the caller leaves the whole input to asn1js.
 */
import { Asn1Error } from './asn1.js';

export interface BerElement {
  /** As asn1js numbers them: 1 universal, 2 application, 3 context-specific, 4 private. */
  tagClass: number;
  constructed: boolean;
  tagNumber: number;
  start: number;
  contentStart: number;
  /** End of the contents, before the end-of-contents octets of an indefinite length. */
  contentEnd: number;
  end: number;
}

const MAX_DEPTH = 64;

const isEndOfContents = (bytes: Uint8Array, at: number, limit: number): boolean => at + 2 <= limit && bytes[at] === 0 && bytes[at + 1] === 0;

/** The element that starts at `offset` and must end by `limit`. */
export function readElement(bytes: Uint8Array, offset: number, limit: number, depth = 0): BerElement {
  if (depth > MAX_DEPTH) throw new Asn1Error('ASN.1 nested too deeply');
  if (offset + 2 > limit) throw new Asn1Error('an element is cut short');
  const first = bytes[offset]!;
  const tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) throw new Asn1Error('a multi-byte tag');
  const tagClass = (first >> 6) + 1;
  const constructed = (first & 0x20) !== 0;
  if (tagClass === 1 && tagNumber === 0 && !isEndOfContents(bytes, offset, limit)) throw new Asn1Error('a reserved tag');
  let at = offset + 1;
  const lengthByte = bytes[at++]!;
  if (lengthByte === 0x80) {
    if (!constructed) throw new Asn1Error('an indefinite length on a primitive element');
    const contentStart = at;
    while (!isEndOfContents(bytes, at, limit)) at = readElement(bytes, at, limit, depth + 1).end;
    return { tagClass, constructed, tagNumber, start: offset, contentStart, contentEnd: at, end: at + 2 };
  }
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count > 4 || at + count > limit) throw new Asn1Error('an element has an unreadable length');
    length = 0;
    for (let k = 0; k < count; k++) length = length * 256 + bytes[at++]!;
  }
  if (length > limit - at) throw new Asn1Error('an element is longer than what holds it');
  return { tagClass, constructed, tagNumber, start: offset, contentStart: at, contentEnd: at + length, end: at + length };
}

/** The elements inside a constructed element, in order; end-of-contents markers inside a definite length included. */
export function elementsIn(bytes: Uint8Array, outer: BerElement): BerElement[] {
  const items: BerElement[] = [];
  for (let at = outer.contentStart; at < outer.contentEnd; ) {
    const element = readElement(bytes, at, outer.contentEnd);
    items.push(element);
    at = element.end;
  }
  return items;
}

/** How many elements `element` holds, itself included; throws past `max`. */
export function countElements(bytes: Uint8Array, element: BerElement, max: number): number {
  let count = 0;
  const visit = (e: BerElement, depth: number): void => {
    if (++count > max) throw new Asn1Error(`more than ${max} elements`);
    if (!e.constructed) return;
    if (depth >= MAX_DEPTH) throw new Asn1Error('ASN.1 nested too deeply');
    for (let at = e.contentStart; at < e.contentEnd; ) {
      const child = readElement(bytes, at, e.contentEnd);
      visit(child, depth + 1);
      at = child.end;
    }
  };
  visit(element, 0);
  return count;
}

export const isUniversalElement = (element: BerElement, tagNumber: number, constructed: boolean): boolean =>
  element.tagClass === 1 && element.tagNumber === tagNumber && element.constructed === constructed;

export const isContextConstructed = (element: BerElement, tagNumber: number): boolean =>
  element.tagClass === 3 && element.tagNumber === tagNumber && element.constructed;
