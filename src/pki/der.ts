/**
 * Minimal DER writer and reader. The hot signing path assembles CMS from precomputed pieces
 * with these instead of an object model, which keeps a signature to a few buffer copies.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);

/** A SET OF with its elements sorted as DER requires (by their encodings). */
export const setOf = (...items: Buffer[]): Buffer => tlv(0x31, ...[...items].sort(Buffer.compare));

export const octetString = (data: Buffer): Buffer => tlv(0x04, data);
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);

/** Context-specific tag; `constructed` for explicit tagging and for implicitly tagged SEQUENCE/SET. */
export const contextTag = (n: number, constructed: boolean, ...content: Buffer[]): Buffer =>
  tlv((constructed ? 0xa0 : 0x80) | n, ...content);

export function integer(value: number | bigint | Buffer): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(value)) bytes = value;
  else {
    let hex = BigInt(value).toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    bytes = Buffer.from(hex, 'hex');
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1]! & 0x80) === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new DerError(`bad OID ${dotted}`);
  const bytes: number[] = [];
  const encodeArc = (arc: bigint): void => {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let n = arc >> 7n; n > 0n; n >>= 7n) group.unshift(Number(n & 0x7fn) | 0x80);
    bytes.push(...group);
  };
  encodeArc(parts[0]! * 40n + parts[1]!);
  for (const arc of parts.slice(2)) encodeArc(arc);
  return tlv(0x06, Buffer.from(bytes));
}

export function generalizedTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2024-01-02T03:04:05.678Z
  const text = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x18, Buffer.from(text, 'latin1'));
}

export const algorithmId = (algorithm: string, params?: Buffer): Buffer =>
  params ? sequence(oid(algorithm), params) : sequence(oid(algorithm));

/** One decoded element: its tag, where its contents lie, and the whole encoding. */
export interface DerNode {
  readonly tag: number;
  readonly constructed: boolean;
  /** The full TLV encoding. */
  readonly raw: Buffer;
  /** The contents octets. */
  readonly content: Buffer;
  /** Offset of the element within the buffer that was read. */
  readonly offset: number;
}

const MAX_DEPTH = 64;

/** Reads one element at `offset`; throws DerError on anything malformed or truncated. */
export function readNode(buf: Buffer, offset = 0): DerNode {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let length = buf[offset + 1]!;
  let headerLength = 2;
  if (length === 0x80) throw new DerError('indefinite length is not DER');
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count > 4) throw new DerError('DER length too large');
    if (offset + 2 + count > buf.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    headerLength += count;
  }
  const end = offset + headerLength + length;
  if (end > buf.length) throw new DerError('truncated DER element');
  return {
    tag,
    constructed: (tag & 0x20) !== 0,
    raw: buf.subarray(offset, end),
    content: buf.subarray(offset + headerLength, end),
    offset,
  };
}

/** The elements inside a constructed element. */
export function children(node: DerNode, depth = 0): DerNode[] {
  if (depth > MAX_DEPTH) throw new DerError('DER nested too deeply');
  if (!node.constructed) throw new DerError('expected a constructed DER element');
  const items: DerNode[] = [];
  let pos = 0;
  while (pos < node.content.length) {
    const child = readNode(node.content, pos);
    items.push(child);
    pos += child.raw.length;
  }
  return items;
}

export function decodeOid(node: DerNode): string {
  if (node.tag !== 0x06) throw new DerError('expected an OBJECT IDENTIFIER');
  const bytes = node.content;
  if (bytes.length === 0) throw new DerError('empty OID');
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of bytes) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  const first = arcs.shift() ?? 0n;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs].join('.');
}
