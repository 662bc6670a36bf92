/**
 * Reading ASN.1 from outside: every signature, timestamp, OCSP response, CRL, PKCS#12 file and
 * certificate the service receives is decoded here with asn1js, which accepts BER (indefinite
 * lengths, constructed strings) as CMS, PKCS#12 and many signers use it, and bounds the work
 * (depth, number of elements, content length). The structures themselves are read with the
 * pkijs classes (or asn1js schemas) by the modules that need them; this module gives them the
 * decoded tree and the original bytes of any element. `toDer` re-encodes an element as DER,
 * which RFC 5652 5.4 needs when signed attributes arrive in BER.
 *
 * The service's own output is written with der.ts.
 */
import * as asn1js from 'asn1js';

export class Asn1Error extends Error {
  override name = 'Asn1Error';
}

export type Block = asn1js.AsnType;

/**
 * Whether an exception is a failure to read malformed input (asn1js, pkijs and our readers)
 * rather than something to pass on (a deadline, a database error). pkijs reports schema
 * mismatches as plain Error and wrong values as TypeError.
 */
export function isParseFailure(err: unknown): err is Error {
  return err instanceof Asn1Error || err instanceof TypeError || err instanceof RangeError || (err instanceof Error && (err.constructor === Error || err.name === 'AsnError'));
}

export interface DecodeLimits {
  /** Largest input accepted, in bytes. */
  maxBytes: number;
  /** Largest number of ASN.1 elements in the input. */
  maxNodes: number;
}

/** Limits for one certificate, attribute or small structure. */
export const SMALL_LIMITS: DecodeLimits = { maxBytes: 256 * 1024, maxNodes: 20_000 };

const MAX_DEPTH = 64;

/**
 * Decodes one BER element that must fill `bytes`; with `allowTrailingBytes`, bytes after it are
 * ignored: a PDF's /Contents is the CMS followed by padding, usually zeros, but some writers
 * leave other bytes there (an encrypting writer may encrypt the whole placeholder before putting
 * the CMS over its start). The element's own length says where it ends, and the padding is not
 * signed by anyone, so what follows cannot change the verdict. Throws Asn1Error with a reason.
 */
export function decodeBer(bytes: Uint8Array, what: string, limits: DecodeLimits, allowTrailingBytes = false): Block {
  if (bytes.length === 0) throw new Asn1Error(`the ${what} is empty`);
  if (bytes.length > limits.maxBytes) throw new Asn1Error(`the ${what} is larger than ${limits.maxBytes} bytes`);
  let decoded: asn1js.FromBerResult;
  try {
    // A plain Uint8Array over the same memory: asn1js's buffer checks are much slower on Node Buffers.
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    decoded = asn1js.fromBER(view, { maxDepth: MAX_DEPTH, maxNodes: limits.maxNodes, maxContentLength: limits.maxBytes, parseEmbedded: false });
  } catch (err) {
    throw new Asn1Error(`the ${what} is not valid BER: ${(err as Error).message}`);
  }
  if (decoded.offset === -1 || decoded.result.error) throw new Asn1Error(`the ${what} is not valid BER: ${decoded.result.error || 'unreadable'}`);
  const rest = bytes.subarray(decoded.offset);
  if (rest.length > 0 && !allowTrailingBytes) throw new Asn1Error(`the ${what} has data after its end`);
  return decoded.result;
}

/** The original encoding of an element, as it was in the input (no copy). */
export function rawOf(block: Block): Buffer {
  const view = block.valueBeforeDecodeView;
  if (!view || view.byteLength === 0) throw new Asn1Error('element without an encoding');
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** The contents octets of an element as it was received (after the header; BER end-of-contents included). */
export function contentsOf(block: Block): Buffer {
  const raw = rawOf(block);
  return raw.subarray(block.idBlock.blockLength + block.lenBlock.blockLength);
}

function children(block: Block): Block[] {
  const value = (block.valueBlock as { value?: unknown }).value;
  return Array.isArray(value) ? (value as Block[]).filter((c) => !(c instanceof asn1js.EndOfContent)) : [];
}

export function isConstructed(block: Block): boolean {
  return block.idBlock.isConstructed;
}

/** Whether the element is universal with this tag number (asn1js tag classes: 1 universal, 3 context). */
export const isUniversal = (block: Block, tagNumber: number): boolean => block.idBlock.tagClass === 1 && block.idBlock.tagNumber === tagNumber;

/** Universal types that DER always encodes primitive (strings, times). */
const STRING_TAGS = new Set([3, 4, 12, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function encodeTag(tagClass: number, constructed: boolean, tagNumber: number): Buffer {
  const first = ((tagClass - 1) << 6) | (constructed ? 0x20 : 0);
  if (tagNumber < 31) return Buffer.from([first | tagNumber]);
  const groups: number[] = [tagNumber & 0x7f];
  for (let n = Math.floor(tagNumber / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n & 0x7f) | 0x80);
  return Buffer.from([first | 0x1f, ...groups]);
}

/** The concatenated segments of a string sent in constructed form (BIT STRING: unused bits of the last). */
function flattenString(block: Block, bitString: boolean, depth: number): Buffer {
  if (depth > MAX_DEPTH) throw new Asn1Error('string segments nested too deeply');
  if (!isConstructed(block)) return contentsOf(block);
  const parts = children(block).map((c) => flattenString(c, bitString, depth + 1));
  if (!bitString) return Buffer.concat(parts);
  const unused = parts.length ? parts[parts.length - 1]![0] ?? 0 : 0;
  return Buffer.concat([Buffer.from([unused]), ...parts.map((p) => p.subarray(1))]);
}

/**
 * The DER encoding of an element received in BER: definite, minimal lengths and strings in
 * primitive form. SET OF elements keep the order they came in (re-sorting is the caller's choice).
 */
export function toDer(block: Block, depth = 0): Buffer {
  if (depth > MAX_DEPTH) throw new Asn1Error('ASN.1 nested too deeply');
  const { tagClass, tagNumber } = block.idBlock;
  if (tagClass === 1 && STRING_TAGS.has(tagNumber) && isConstructed(block)) {
    const content = flattenString(block, tagNumber === 3, depth);
    return Buffer.concat([encodeTag(1, false, tagNumber), encodeLength(content.length), content]);
  }
  if (!isConstructed(block)) {
    const content = contentsOf(block);
    return Buffer.concat([encodeTag(tagClass, false, tagNumber), encodeLength(content.length), content]);
  }
  const content = Buffer.concat(children(block).map((c) => toDer(c, depth + 1)));
  return Buffer.concat([encodeTag(tagClass, true, tagNumber), encodeLength(content.length), content]);
}

/** Elements of a constructed element (SEQUENCE, SET, explicit tag), without end-of-contents markers. */
export function elementsOf(block: Block, max: number, what: string): Block[] {
  if (!isConstructed(block)) throw new Asn1Error(`the ${what} is not a constructed element`);
  const items = children(block);
  if (items.length > max) throw new Asn1Error(`the ${what} has more than ${max} elements`);
  return items;
}

export function oidOf(block: Block, what: string): string {
  if (!(block instanceof asn1js.ObjectIdentifier)) throw new Asn1Error(`the ${what} is not an object identifier`);
  const text = block.valueBlock.toString();
  if (!/^\d+(\.\d+)+$/.test(text)) throw new Asn1Error(`the ${what} is a malformed object identifier`);
  return text;
}

/** The bytes of a string with any tag (e.g. an IMPLICIT OCTET STRING), joined when sent in constructed form. */
export function stringContents(block: Block): Buffer {
  return flattenString(block, false, 0);
}

/** The bytes of an OCTET STRING, joined when it was sent in constructed (BER) form. */
export function octetsOf(block: Block, what: string): Buffer {
  if (!isUniversal(block, 4)) throw new Asn1Error(`the ${what} is not an OCTET STRING`);
  return flattenString(block, false, 0);
}

/** The bytes of a BIT STRING without its unused-bits octet (which must be 0 for keys and signatures). */
export function bitStringBytes(block: Block, what: string): Buffer {
  if (!isUniversal(block, 3)) throw new Asn1Error(`the ${what} is not a BIT STRING`);
  const content = flattenString(block, true, 0);
  if (content.length === 0) throw new Asn1Error(`the ${what} is empty`);
  return content.subarray(1);
}

/** An INTEGER as unsigned lower-case hex without leading zero bytes (how serial numbers are compared). */
export function integerHex(block: Block, what: string): string {
  if (!isUniversal(block, 2) || isConstructed(block)) throw new Asn1Error(`the ${what} is not an INTEGER`);
  const hex = contentsOf(block).toString('hex');
  if (hex.length === 0) throw new Asn1Error(`the ${what} is empty`);
  return hex.replace(/^(00)+(?=.)/, '');
}

/** A small non-negative INTEGER or ENUMERATED as a number. */
export function smallInteger(block: Block, what: string): number {
  if (!(isUniversal(block, 2) || isUniversal(block, 10)) || isConstructed(block)) throw new Asn1Error(`the ${what} is not an INTEGER`);
  const bytes = contentsOf(block);
  if (bytes.length === 0 || bytes.length > 6 || (bytes[0]! & 0x80) !== 0) throw new Asn1Error(`the ${what} is out of range`);
  return bytes.readUIntBE(0, bytes.length);
}

/** UTCTime or GeneralizedTime (UTC, with optional fractional seconds) as a Date. */
export function timeOf(block: Block, what: string): Date {
  const text = isConstructed(block) ? '' : contentsOf(block).toString('latin1');
  let m: RegExpExecArray | null = null;
  if (isUniversal(block, 23) && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(m[1]);
    return checkedDate(`${yy < 50 ? 20 : 19}${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`, what);
  }
  if (isUniversal(block, 24) && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,9})?Z$/.exec(text))) {
    return checkedDate(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ? m[7].slice(0, 4) : ''}Z`, what);
  }
  throw new Asn1Error(`the ${what} is not a UTC time`);
}

function checkedDate(iso: string, what: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Asn1Error(`the ${what} is not a valid date`);
  return date;
}

/** Verifies `block` against an asn1js schema and returns the named elements. */
export function matchSchema(block: Block, schema: asn1js.AsnType, what: string): Record<string, Block> {
  // asn1js writes the named parts into its first argument (and appends repeated ones to arrays
  // there): a fresh object each time, so a block matched twice is not left with stale names.
  const result = asn1js.compareSchema({} as asn1js.AsnType, block, schema);
  if (!result.verified) throw new Asn1Error(`the ${what} does not have the expected structure`);
  return result.result as unknown as Record<string, Block>;
}
