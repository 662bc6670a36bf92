import { PdfError } from '../errors.js';

/**
 * A growable output buffer that refuses to grow beyond `limit` bytes, so a decoder fed a
 * decompression bomb fails with LIMIT_EXCEEDED instead of exhausting memory.
 */
export class BoundedOutput {
  private buf: Buffer;
  private used = 0;

  constructor(
    private readonly limit: number,
    sizeHint: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(0, Math.min(limit, Math.max(64, sizeHint))));
  }

  get length(): number {
    return this.used;
  }

  /** Makes room for `extra` more bytes; throws LIMIT_EXCEEDED past the limit. */
  reserve(extra: number): void {
    const needed = this.used + extra;
    if (needed > this.limit) throw new PdfError('LIMIT_EXCEEDED', `a stream decodes to more than ${this.limit} bytes`);
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.limit, Math.max(needed, this.buf.length * 2)));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }

  push(byte: number): void {
    this.reserve(1);
    this.buf[this.used++] = byte;
  }

  /** Writes one byte at `index` of space obtained from reserve() (used by decoders that write backwards). */
  setAt(index: number, byte: number): void {
    this.buf[index] = byte;
  }

  /** Marks `count` reserved bytes as written. */
  advance(count: number): void {
    this.used += count;
  }

  pushBytes(bytes: Buffer): void {
    this.reserve(bytes.length);
    bytes.copy(this.buf, this.used);
    this.used += bytes.length;
  }

  fill(byte: number, count: number): void {
    this.reserve(count);
    this.buf.fill(byte, this.used, this.used + count);
    this.used += count;
  }

  /** The bytes written, copied when the buffer is much larger than its content. */
  result(): Buffer {
    const view = this.buf.subarray(0, this.used);
    return this.buf.length > 2 * this.used + 4096 ? Buffer.from(view) : view;
  }
}
