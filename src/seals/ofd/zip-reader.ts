/**
 * The ZIP container of an OFD package (GB/T 33190 packs a document as a ZIP file), read from its
 * central directory. Written here rather than taken from a library: the service needs only
 * stored and deflated entries of an archive already in memory, node:zlib inflates them with a
 * true bound on the output (`maxOutputLength`), and a seal's picture comes from outside, so every
 * limit must be the service's own:
 *   - at most `maxEntries` entries, each inflating to at most `maxEntryBytes`, and all entries
 *     read together to at most `maxTotalBytes`: the declared sizes are not trusted (an inflation
 *     stops at the bound whatever they say) and only checked afterwards, with the CRC;
 *   - ZIP64, split archives, encrypted entries and methods other than stored and deflate are
 *     refused with a reason, not guessed at.
 */
import { inflateRawSync } from 'node:zlib';
import { crc32 } from '../png.js';
import { OfdError } from './ofd-error.js';

export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
}

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const STORED = 0;
const DEFLATE = 8;

function mib(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

/** The end-of-central-directory record: the last one whose comment ends the file. */
function findEnd(data: Buffer): number {
  for (let at = data.length - 22; at >= Math.max(0, data.length - 22 - 0xffff); at--) {
    if (data.readUInt32LE(at) === EOCD && at + 22 + data.readUInt16LE(at + 20) === data.length) return at;
  }
  throw new OfdError('it is not a ZIP file, or a truncated one: there is no end-of-central-directory record');
}

export class ZipArchive {
  private readonly entries = new Map<string, Entry>();
  private readonly read = new Map<string, Buffer>();
  private inflated = 0;

  constructor(
    private readonly data: Buffer,
    private readonly limits: ZipLimits,
  ) {
    const end = findEnd(data);
    if (end >= 20 && data.readUInt32LE(end - 20) === ZIP64_LOCATOR) throw new OfdError('ZIP64 archives are not supported');
    const [disk, cdDisk, onDisk, count] = [0, 2, 4, 6].map((o) => data.readUInt16LE(end + 4 + o)) as [number, number, number, number];
    const cdSize = data.readUInt32LE(end + 12);
    const cdOffset = data.readUInt32LE(end + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new OfdError('ZIP64 archives are not supported');
    if (disk !== 0 || cdDisk !== 0 || onDisk !== count) throw new OfdError('split (multi-disk) ZIP archives are not supported');
    if (count > limits.maxEntries) throw new OfdError(`the ZIP archive has ${count} entries, more than ${limits.maxEntries}`);
    if (cdOffset + cdSize > end) throw new OfdError('the ZIP archive is truncated: its central directory runs past the end of the file');
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      if (at + 46 > cdOffset + cdSize || data.readUInt32LE(at) !== CENTRAL) throw new OfdError(`the ZIP archive's central directory is damaged at entry ${i + 1} of ${count}`);
      const flags = data.readUInt16LE(at + 8);
      const entry: Entry = {
        name: '',
        method: data.readUInt16LE(at + 10),
        crc: data.readUInt32LE(at + 16),
        compressedSize: data.readUInt32LE(at + 20),
        size: data.readUInt32LE(at + 24),
        localOffset: data.readUInt32LE(at + 42),
      };
      const nameEnd = at + 46 + data.readUInt16LE(at + 28);
      const next = nameEnd + data.readUInt16LE(at + 30) + data.readUInt16LE(at + 32);
      if (next > cdOffset + cdSize) throw new OfdError(`the ZIP archive's central directory is damaged at entry ${i + 1} of ${count}`);
      // some writers separate folders with backslashes
      entry.name = data.toString('utf8', at + 46, nameEnd).replace(/\\/g, '/');
      at = next;
      if (entry.name.endsWith('/')) continue;
      if (flags & 0x41 || entry.method === 99) throw new OfdError(`the ZIP entry ${entry.name} is encrypted`);
      if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff || entry.localOffset === 0xffffffff) throw new OfdError(`the ZIP entry ${entry.name} needs ZIP64, which is not supported`);
      if (entry.method !== STORED && entry.method !== DEFLATE) throw new OfdError(`the ZIP entry ${entry.name} uses compression method ${entry.method}; only stored and deflate are supported`);
      if (this.entries.has(entry.name)) throw new OfdError(`the ZIP archive has two entries named ${entry.name}`);
      this.entries.set(entry.name, entry);
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's bytes, inflated within the limits; null when there is no such entry. */
  get(name: string): Buffer | null {
    const done = this.read.get(name);
    if (done) return done;
    const entry = this.entries.get(name);
    if (!entry) return null;
    const { data } = this;
    const at = entry.localOffset;
    if (at + 30 > data.length || data.readUInt32LE(at) !== LOCAL) throw new OfdError(`the ZIP entry ${name} is damaged or truncated: no local header where the directory says`);
    if (data.readUInt16LE(at + 6) & 0x41) throw new OfdError(`the ZIP entry ${name} is encrypted`);
    const start = at + 30 + data.readUInt16LE(at + 26) + data.readUInt16LE(at + 28);
    const stop = start + entry.compressedSize;
    if (stop > data.length) throw new OfdError(`the ZIP archive is truncated: the data of ${name} runs past the end of the file`);
    const budget = Math.min(this.limits.maxEntryBytes, this.limits.maxTotalBytes - this.inflated);
    const tooLarge = (): OfdError =>
      budget < this.limits.maxEntryBytes
        ? new OfdError(`the ZIP entries read inflate to more than ${mib(this.limits.maxTotalBytes)} together (a ZIP bomb?)`)
        : new OfdError(`the ZIP entry ${name} inflates to more than ${mib(this.limits.maxEntryBytes)} (a ZIP bomb?)`);
    let bytes: Buffer;
    if (entry.method === STORED) {
      if (entry.compressedSize > budget) throw tooLarge();
      bytes = Buffer.from(data.subarray(start, stop));
    } else {
      try {
        bytes = inflateRawSync(data.subarray(start, stop), { maxOutputLength: Math.max(1, budget) });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
        throw new OfdError(`the ZIP entry ${name} is damaged: ${(err as Error).message}`);
      }
    }
    if (bytes.length !== entry.size || crc32(bytes, 0, bytes.length) !== entry.crc) throw new OfdError(`the ZIP entry ${name} is damaged: its size or CRC does not match the directory`);
    this.inflated += bytes.length;
    this.read.set(name, bytes);
    return bytes;
  }
}
