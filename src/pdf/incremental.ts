import { randomBytes } from 'node:crypto';
import type { PdfDocument } from './document.js';
import { PdfDict, PdfName, PdfRef, PdfString, type PdfValue } from './objects.js';
import { ByteSink, writeValue } from './serialize.js';

const TRAILER_KEYS_KEPT = ['Root', 'Info'];

/** Random /ID elements, cut from a block drawn 64 at a time: a call into OpenSSL costs more than the bytes. */
let randomBlock = Buffer.alloc(0);
let randomAt = 0;
function randomId(): Buffer {
  if (randomAt + 16 > randomBlock.length) {
    randomBlock = randomBytes(16 * 64);
    randomAt = 0;
  }
  randomAt += 16;
  return Buffer.from(randomBlock.subarray(randomAt - 16, randomAt));
}

/**
 * Collects new and changed objects and writes them as an incremental update: the original
 * bytes are never touched; the update is appended with a cross-reference section of the same
 * kind as the file's newest one and a `/Prev` link to it.
 */
export class IncrementalUpdate {
  private readonly objects = new Map<number, { gen: number; value: PdfValue }>();
  private nextNum: number;

  constructor(readonly doc: PdfDocument) {
    this.nextNum = doc.size;
  }

  /** Reserves a new object number. */
  allocate(): PdfRef {
    return new PdfRef(this.nextNum++, 0);
  }

  /** Adds a new object, returning its reference. */
  add(value: PdfValue): PdfRef {
    const ref = this.allocate();
    this.objects.set(ref.num, { gen: 0, value });
    return ref;
  }

  /** Replaces (or fills in an allocated) object. */
  set(ref: PdfRef, value: PdfValue): void {
    this.objects.set(ref.num, { gen: ref.gen, value });
  }

  has(ref: PdfRef): boolean {
    return this.objects.has(ref.num);
  }

  /** The object as it will be after the update: a changed copy if one was set, else the file's. */
  current(ref: PdfRef): PdfValue | undefined {
    return this.objects.has(ref.num) ? this.objects.get(ref.num)!.value : this.doc.getObject(ref.num);
  }

  /** Writes the update. Holes in the objects record their offsets relative to the returned buffer. */
  write(): Buffer {
    const { doc } = this;
    const sink = new ByteSink();
    const last = doc.bytes[doc.bytes.length - 1];
    if (last !== 0x0a && last !== 0x0d) sink.write('\n');
    const base = doc.bytes.length;
    const offsets = new Map<number, { offset: number; gen: number }>();
    const nums = [...this.objects.keys()].sort((a, b) => a - b);
    for (const num of nums) {
      const { gen, value } = this.objects.get(num)!;
      offsets.set(num, { offset: base + sink.length, gen });
      sink.write(`${num} ${gen} obj\n`);
      writeValue(sink, value);
      sink.write('\nendobj\n');
    }
    const trailer = new PdfDict();
    for (const key of TRAILER_KEYS_KEPT) {
      const value = doc.trailer.get(key);
      if (value !== undefined) trailer.set(key, value);
    }
    trailer.set('ID', this.nextId());
    trailer.set('Prev', doc.startXref);
    if (doc.lastSectionKind === 'table') this.writeTable(sink, offsets, trailer, base);
    else this.writeStream(sink, offsets, trailer, base);
    return sink.toBuffer();
  }

  private nextId(): PdfValue {
    const id = this.doc.trailer.get('ID');
    const first = Array.isArray(id) && id[0] instanceof PdfString ? id[0] : new PdfString(randomId(), true);
    return [first, new PdfString(randomId(), true)];
  }

  private writeTable(sink: ByteSink, offsets: Map<number, { offset: number; gen: number }>, trailer: PdfDict, base: number): void {
    const xrefOffset = base + sink.length;
    sink.write('xref\n');
    for (const run of contiguousRuns([...offsets.keys()])) {
      sink.write(`${run[0]} ${run.length}\n`);
      for (const num of run) {
        const { offset, gen } = offsets.get(num)!;
        sink.write(`${String(offset).padStart(10, '0')} ${String(gen).padStart(5, '0')} n\r\n`);
      }
    }
    trailer.set('Size', this.nextNum);
    sink.write('trailer\n');
    writeValue(sink, reorder(trailer));
    sink.write(`\nstartxref\n${xrefOffset}\n%%EOF\n`);
  }

  private writeStream(sink: ByteSink, offsets: Map<number, { offset: number; gen: number }>, trailer: PdfDict, base: number): void {
    const xrefRef = this.allocate();
    const xrefOffset = base + sink.length;
    offsets.set(xrefRef.num, { offset: xrefOffset, gen: 0 });
    const offsetWidth = xrefOffset < 2 ** 32 ? 4 : 6;
    const nums = [...offsets.keys()].sort((a, b) => a - b);
    const rowLength = 1 + offsetWidth + 2;
    const rows = Buffer.alloc(nums.length * rowLength);
    nums.forEach((num, i) => {
      const { offset, gen } = offsets.get(num)!;
      const at = i * rowLength;
      rows[at] = 1;
      rows.writeUIntBE(offset, at + 1, offsetWidth);
      rows.writeUInt16BE(gen, at + 1 + offsetWidth);
    });
    const index: number[] = [];
    for (const run of contiguousRuns(nums)) index.push(run[0]!, run.length);
    const xrefDict = new PdfDict([
      ['Type', PdfName.of('XRef')],
      ['Size', this.nextNum],
      ['Index', index],
      ['W', [1, offsetWidth, 2]],
      ...trailer.entries,
      ['Length', rows.length],
    ]);
    sink.write(`${xrefRef.num} 0 obj\n`);
    writeValue(sink, xrefDict);
    sink.write('\nstream\n');
    sink.write(rows);
    sink.write(`\nendstream\nendobj\nstartxref\n${xrefOffset}\n%%EOF\n`);
  }
}

function reorder(trailer: PdfDict): PdfDict {
  const ordered = new PdfDict();
  for (const key of ['Size', 'Root', 'Info', 'ID', 'Prev']) {
    const value = trailer.get(key);
    if (value !== undefined) ordered.set(key, value);
  }
  return ordered;
}

function contiguousRuns(nums: number[]): number[][] {
  const sorted = [...nums].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const num of sorted) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] === num - 1) run.push(num);
    else runs.push([num]);
  }
  return runs;
}
