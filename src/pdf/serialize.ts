import { PdfError } from './errors.js';
import { PdfDict, PdfHole, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';

/** Width of the `/ByteRange` array as written, so it can be patched in place. */
export const BYTE_RANGE_WIDTH = 60;

const NAME_PLAIN = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) NAME_PLAIN[c] = 1;
for (const c of '()<>[]{}/%#') NAME_PLAIN[c.charCodeAt(0)] = 0;

/** Appends bytes and remembers its length, so positions can be recorded while writing. */
export class ByteSink {
  private readonly chunks: Buffer[] = [];
  length = 0;
  write(data: string | Buffer): void {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new PdfError('MALFORMED', 'cannot write a non-finite number');
  if (Number.isInteger(n)) return String(n);
  const fixed = n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

function writeName(sink: ByteSink, value: string): void {
  let out = '/';
  for (const byte of Buffer.from(value, 'latin1')) {
    out += NAME_PLAIN[byte] ? String.fromCharCode(byte) : `#${byte.toString(16).padStart(2, '0')}`;
  }
  sink.write(out);
}

function writeString(sink: ByteSink, value: PdfString): void {
  const bytes = value.bytes;
  const printable = !value.hex && bytes.every((b) => b >= 0x20 && b <= 0x7e);
  if (!printable) {
    sink.write(`<${bytes.toString('hex')}>`);
    return;
  }
  sink.write(`(${bytes.toString('latin1').replace(/[\\()]/g, (c) => `\\${c}`)})`);
}

export function writeValue(sink: ByteSink, value: PdfValue): void {
  if (value === null) sink.write('null');
  else if (typeof value === 'boolean') sink.write(value ? 'true' : 'false');
  else if (typeof value === 'number') sink.write(formatNumber(value));
  else if (value instanceof PdfName) writeName(sink, value.value);
  else if (value instanceof PdfRef) sink.write(`${value.num} ${value.gen} R`);
  else if (value instanceof PdfString) writeString(sink, value);
  else if (Array.isArray(value)) {
    sink.write('[');
    value.forEach((item, i) => {
      if (i > 0) sink.write(' ');
      writeValue(sink, item);
    });
    sink.write(']');
  } else if (value instanceof PdfDict) {
    sink.write('<<');
    for (const [key, item] of value.entries) {
      writeName(sink, key);
      sink.write(' ');
      writeValue(sink, item);
    }
    sink.write('>>');
  } else if (value instanceof PdfStream) {
    const streamDict = value.dict.clone().set('Length', value.raw.length);
    writeValue(sink, streamDict);
    sink.write('\nstream\n');
    sink.write(value.raw);
    sink.write('\nendstream');
  } else if (value instanceof PdfHole) {
    value.offset = sink.length;
    if (value.kind === 'contents') {
      const hole = `<${'0'.repeat(value.size * 2)}>`;
      value.length = hole.length;
      sink.write(hole);
    } else {
      const hole = `[0 0 0 0${' '.repeat(BYTE_RANGE_WIDTH - 9)}]`;
      value.length = hole.length;
      sink.write(hole);
    }
  } else {
    throw new PdfError('MALFORMED', 'cannot write an unknown value');
  }
}
