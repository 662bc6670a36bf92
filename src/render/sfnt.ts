/** The sfnt container of TrueType/OpenType fonts: collections, table directories, checksums. */

/** A font file that is not a TrueType/OpenType font or collection, or is damaged. */
export class FontFormatError extends Error {
  override name = 'FontFormatError';
}

// sfnt versions of a single font: TrueType outlines (0x00010000, or 'true' from old Apple fonts)
// and CFF outlines ('OTTO').
const SFNT_TRUETYPE = 0x00010000;
const SFNT_APPLE = 0x74727565; // 'true'
export const SFNT_CFF = 0x4f54544f; // 'OTTO'
const TTC_TAG = 0x74746366; // 'ttcf'

function isSingleFont(tag: number): boolean {
  return tag === SFNT_TRUETYPE || tag === SFNT_APPLE || tag === SFNT_CFF;
}

/** The OpenType table checksum: the sum of the table's big-endian uint32 words, zero-padded. */
function tableChecksum(data: Buffer, start: number, length: number): number {
  let sum = 0;
  const whole = start + (length & ~3);
  let i = start;
  for (; i < whole; i += 4) sum = (sum + data.readUInt32BE(i)) >>> 0;
  if (length & 3) {
    let last = 0;
    for (let k = 0; k < 4; k++) last = (last << 8) | (i + k < start + length ? data[i + k]! : 0);
    sum = (sum + (last >>> 0)) >>> 0;
  }
  return sum;
}

interface TableRecord {
  tag: string;
  offset: number;
  length: number;
}

/**
 * One face of a TrueType collection (.ttc) as a standalone font file. Reads the collection
 * header and the face's table directory, copies every table the face uses (tables shared by
 * several faces are copied into each) into a new sfnt, 4-byte aligned, with the directory's
 * offsets rewritten, table checksums and head.checkSumAdjustment recomputed. A DSIG table is
 * dropped: its signature covered the original file. A plain .ttf/.otf is returned as is.
 */
export function extractTtcFace(ttc: Buffer, index: number): Buffer {
  if (ttc.length < 12) throw new FontFormatError(`not a font file: ${ttc.length} bytes`);
  const tag = ttc.readUInt32BE(0);
  if (isSingleFont(tag)) return ttc;
  if (tag !== TTC_TAG) throw new FontFormatError('not a TrueType/OpenType font or collection (unknown sfnt version)');
  const major = ttc.readUInt16BE(4);
  if (major !== 1 && major !== 2) throw new FontFormatError(`unsupported TrueType collection version ${major}`);
  const numFonts = ttc.readUInt32BE(8);
  if (!Number.isInteger(index) || index < 0 || index >= numFonts) {
    throw new FontFormatError(`the collection has ${numFonts} faces; face ${index} does not exist`);
  }
  if (12 + 4 * numFonts > ttc.length) throw new FontFormatError('the collection header is truncated');
  const face = ttc.readUInt32BE(12 + 4 * index);
  if (face + 12 > ttc.length) throw new FontFormatError(`face ${index} starts beyond the end of the collection`);
  const version = ttc.readUInt32BE(face);
  if (!isSingleFont(version)) throw new FontFormatError(`face ${index} has an unknown sfnt version`);
  const numTables = ttc.readUInt16BE(face + 4);
  if (numTables === 0) throw new FontFormatError(`face ${index} has no tables`);
  if (face + 12 + 16 * numTables > ttc.length) throw new FontFormatError(`the table directory of face ${index} is truncated`);

  const tables: TableRecord[] = [];
  for (let i = 0; i < numTables; i++) {
    const record = face + 12 + 16 * i;
    const t: TableRecord = {
      tag: ttc.toString('latin1', record, record + 4),
      offset: ttc.readUInt32BE(record + 8),
      length: ttc.readUInt32BE(record + 12),
    };
    if (t.offset + t.length > ttc.length) throw new FontFormatError(`table '${t.tag}' of face ${index} lies beyond the end of the collection`);
    if (t.tag !== 'DSIG') tables.push(t);
  }
  // The directory must be sorted by tag (byte order) for binary search; collections normally are.
  tables.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  for (let i = 1; i < tables.length; i++) {
    if (tables[i]!.tag === tables[i - 1]!.tag) throw new FontFormatError(`face ${index} lists table '${tables[i]!.tag}' twice`);
  }

  return writeSfnt(version, tables.map((t) => ({ tag: t.tag, data: ttc.subarray(t.offset, t.offset + t.length) })));
}

/**
 * A standalone sfnt of the given tables (sorted by tag by the caller), each 4-byte aligned, with
 * table checksums and head.checkSumAdjustment computed.
 */
export function writeSfnt(version: number, tables: Array<{ tag: string; data: Buffer }>): Buffer {
  const n = tables.length;
  const headerLength = 12 + 16 * n;
  const total = tables.reduce((sum, t) => sum + ((t.data.length + 3) & ~3), headerLength);
  const out = Buffer.alloc(total); // zero-filled, so the padding is zero
  const entrySelector = Math.floor(Math.log2(n));
  const searchRange = 16 * 2 ** entrySelector;
  out.writeUInt32BE(version, 0);
  out.writeUInt16BE(n, 4);
  out.writeUInt16BE(searchRange, 6);
  out.writeUInt16BE(entrySelector, 8);
  out.writeUInt16BE(16 * n - searchRange, 10);

  let pos = headerLength;
  let headAt = -1;
  tables.forEach((t, i) => {
    const length = t.data.length;
    t.data.copy(out, pos);
    if (t.tag === 'head') {
      if (length < 12) throw new FontFormatError('the head table is truncated');
      headAt = pos;
      out.writeUInt32BE(0, pos + 8); // checkSumAdjustment counts as 0 in every checksum
    }
    const record = 12 + 16 * i;
    out.write(t.tag, record, 4, 'latin1');
    out.writeUInt32BE(tableChecksum(out, pos, length), record + 4);
    out.writeUInt32BE(pos, record + 8);
    out.writeUInt32BE(length, record + 12);
    pos += (length + 3) & ~3;
  });
  if (headAt >= 0) out.writeUInt32BE((0xb1b0afba - tableChecksum(out, 0, out.length)) >>> 0, headAt + 8);
  return out;
}

