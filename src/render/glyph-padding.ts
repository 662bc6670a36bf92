import { FontFormatError, writeSfnt } from './sfnt.js';

/**
 * Pads every glyph of a TrueType font to an even length (4-byte aligned), with a long 'loca'.
 *
 * fontkit's subsetter (which pdf-lib uses) copies glyphs as they are stored and then writes a
 * short 'loca' when the subset is small; short offsets are halved, so a glyph of odd length
 * shifts every glyph after it and they decode as garbage (poppler draws nothing). HanaMin B stores
 * glyphs unpadded; UMing pads them. A font whose glyphs are all of even length is returned as is.
 */
export function padGlyphs(ttf: Buffer): Buffer {
  const numTables = ttf.readUInt16BE(4);
  const tables = Array.from({ length: numTables }, (_, i) => {
    const r = 12 + 16 * i;
    const offset = ttf.readUInt32BE(r + 8);
    const length = ttf.readUInt32BE(r + 12);
    if (offset + length > ttf.length) throw new FontFormatError('a table lies beyond the end of the font');
    return { tag: ttf.toString('latin1', r, r + 4), data: ttf.subarray(offset, offset + length) };
  });
  const table = (tag: string): Buffer | undefined => tables.find((t) => t.tag === tag)?.data;
  const head = table('head');
  const maxp = table('maxp');
  const loca = table('loca');
  const glyf = table('glyf');
  if (!head || !maxp || !loca || !glyf) return ttf;
  const longOffsets = head.readInt16BE(50) === 1;
  const numGlyphs = maxp.readUInt16BE(4);
  if (loca.length < (numGlyphs + 1) * (longOffsets ? 4 : 2)) throw new FontFormatError('the loca table is truncated');
  const offsetOf = (gid: number): number => (longOffsets ? loca.readUInt32BE(4 * gid) : 2 * loca.readUInt16BE(2 * gid));
  let odd = false;
  for (let gid = 0; gid < numGlyphs && !odd; gid++) odd = (offsetOf(gid + 1) - offsetOf(gid)) % 2 !== 0;
  if (!odd) return ttf;

  const pieces: Buffer[] = [];
  const newLoca = Buffer.alloc(4 * (numGlyphs + 1));
  let at = 0;
  for (let gid = 0; gid < numGlyphs; gid++) {
    const start = offsetOf(gid);
    const end = offsetOf(gid + 1);
    if (end < start || end > glyf.length) throw new FontFormatError(`glyph ${gid} lies outside the glyf table`);
    newLoca.writeUInt32BE(at, 4 * gid);
    const padded = Buffer.alloc((end - start + 3) & ~3);
    glyf.copy(padded, 0, start, end);
    pieces.push(padded);
    at += padded.length;
  }
  newLoca.writeUInt32BE(at, 4 * numGlyphs);
  const newHead = Buffer.from(head);
  newHead.writeInt16BE(1, 50);
  const replaced: Record<string, Buffer> = { head: newHead, loca: newLoca, glyf: Buffer.concat(pieces) };
  return writeSfnt(
    ttf.readUInt32BE(0),
    tables.map((t) => ({ tag: t.tag, data: replaced[t.tag] ?? t.data })).sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)),
  );
}
