import { checkDeadline, rethrowIfOutOfTime } from './limits/deadline.js';
import { PdfError } from './errors.js';
import { isName, PdfDict, PdfRef, PdfStream } from './objects.js';
import { ObjectParser } from './parser.js';
import { type XrefEntry, type XrefReader, type XrefSection } from './xref.js';

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
const isDelimiterOrSpace = (c: number | undefined): boolean => c === undefined || isSpace(c) || '<[/('.includes(String.fromCharCode(c)) || c === 0x25;

/**
 * Every `n g obj` header between `start` and `end`: object number -> offsets, in file order.
 * Works on the bytes (finding each `obj` keyword and reading the two numbers before it), so a
 * large file is never copied into a string.
 */
export function scanObjectHeaders(bytes: Buffer, start = 0, end = bytes.length): Map<number, number[]> {
  const found = new Map<number, number[]>();
  let seen = 0;
  for (let at = bytes.indexOf('obj', start, 'latin1'); at >= 0 && at < end; at = bytes.indexOf('obj', at + 3, 'latin1')) {
    if (++seen % 4096 === 0) checkDeadline();
    if (!isDelimiterOrSpace(bytes[at + 3])) continue;
    let p = at - 1;
    if (!isSpace(bytes[p])) continue;
    while (p > start && isSpace(bytes[p])) p--;
    const genEnd = p + 1;
    while (p >= start && isDigit(bytes[p])) p--;
    if (genEnd - (p + 1) < 1 || genEnd - (p + 1) > 5 || !isSpace(bytes[p])) continue;
    while (p > start && isSpace(bytes[p])) p--;
    const numEnd = p + 1;
    while (p >= start && isDigit(bytes[p])) p--;
    const numStart = p + 1;
    if (numEnd - numStart < 1 || numEnd - numStart > 10 || (numStart > start && !isSpace(bytes[numStart - 1]))) continue;
    const num = Number(bytes.toString('latin1', numStart, numEnd));
    const list = found.get(num);
    if (list) list.push(numStart);
    else found.set(num, [numStart]);
  }
  return found;
}

/** Offsets just past each `%%EOF` line: the ends of the file's revisions as written. */
function eofEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  for (let at = bytes.indexOf('%%EOF', 0, 'latin1'); at >= 0; at = bytes.indexOf('%%EOF', at + 5, 'latin1')) {
    let end = at + 5;
    if (bytes[end] === 0x0d) end++;
    if (bytes[end] === 0x0a) end++;
    ends.push(end);
  }
  if (ends.length === 0 || ends[ends.length - 1]! < bytes.length - 1024) ends.push(bytes.length);
  return ends;
}

function lastTrailerIn(bytes: Buffer, start: number, end: number, maxNesting: number): PdfDict | undefined {
  let at = bytes.lastIndexOf('trailer', end, 'latin1');
  while (at >= start) {
    try {
      const parser = new ObjectParser(bytes, at + 7, end, maxNesting);
      const value = parser.parseValue();
      if (value instanceof PdfDict) return value;
    } catch (err) {
      rethrowIfOutOfTime(err);
    }
    at = at > 0 ? bytes.lastIndexOf('trailer', at - 1, 'latin1') : -1;
  }
  return undefined;
}

/**
 * Rebuilds the cross-reference information of a file whose xref chain cannot be read, the way
 * mainstream readers do: by scanning for objects and trailers. Each stretch of the file that
 * ends in `%%EOF` becomes one revision (newest first, like a `/Prev` chain), listing the objects
 * defined in it; an xref stream found there contributes its compressed entries.
 */
export function reconstructSections(
  bytes: Buffer,
  headers: Map<number, number[]>,
  reader: XrefReader,
  parseAt: (offset: number) => { num: number; value: unknown } | undefined,
  maxNesting: number,
): XrefSection[] {
  const ends = eofEnds(bytes);
  const sections: XrefSection[] = [];
  const byOffset: Array<[number, number]> = [];
  for (const [num, offsets] of headers) for (const offset of offsets) byOffset.push([offset, num]);
  byOffset.sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  let start = 0;
  let catalog: PdfRef | undefined;
  for (const end of ends) {
    checkDeadline();
    const entries = new Map<number, XrefEntry>();
    let trailer = lastTrailerIn(bytes, start, end, maxNesting);
    for (; cursor < byOffset.length && byOffset[cursor]![0] < end; cursor++) {
      const [offset, num] = byOffset[cursor]!;
      if ((cursor & 0x3ff) === 0x3ff) checkDeadline();
      entries.set(num, { kind: 'offset', offset, gen: 0 }); // the last definition in a stretch wins
      const parsed = parseAt(offset);
      if (!parsed || parsed.num !== num) continue;
      const value = parsed.value;
      const dict = value instanceof PdfStream ? value.dict : value instanceof PdfDict ? value : undefined;
      if (isName(dict?.get('Type'), 'Catalog')) catalog = new PdfRef(num, 0);
      if (value instanceof PdfStream && isName(value.dict.get('Type'), 'XRef')) {
        trailer = value.dict;
        try {
          for (const [n, e] of reader.read(offset).entries) if (e.kind === 'compressed' && !entries.has(n)) entries.set(n, e);
        } catch (err) {
          rethrowIfOutOfTime(err);
        }
      }
    }
    if (entries.size > 0 || trailer) {
      const fixed = new PdfDict(trailer?.entries ?? []);
      fixed.delete('Prev');
      fixed.delete('XRefStm');
      sections.unshift({ offset: start, kind: 'table', trailer: fixed, entries, end, conflicts: [] });
    }
    start = end;
  }
  if (sections.length === 0) throw new PdfError('MALFORMED', 'no PDF objects found in the file');
  const newest = sections[0]!.trailer;
  if (!(newest.get('Root') instanceof PdfRef)) {
    const root = sections.map((s) => s.trailer.get('Root')).find((r): r is PdfRef => r instanceof PdfRef) ?? catalog;
    if (!root) throw new PdfError('MALFORMED', 'the file cannot be repaired: no trailer and no document catalog found');
    newest.set('Root', root);
  }
  return sections;
}
