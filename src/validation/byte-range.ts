import type { PdfDocument } from '../pdf/document.js';
import { PdfString, type PdfDict } from '../pdf/objects.js';
import type { SignatureEntry } from '../pdf/signatures.js';
import type { SignatureReport } from './report.js';
import type { RevisionInfo } from './revisions.js';

export function rangeChunks(bytes: Buffer, byteRange: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i + 1 < byteRange.length; i += 2) chunks.push(bytes.subarray(byteRange[i]!, byteRange[i]! + byteRange[i + 1]!));
  return chunks;
}

/** Checks /ByteRange: starts at 0, its one gap is exactly the /Contents hex string, inside the file. */
export function checkByteRange(bytes: Buffer, entry: SignatureEntry): string[] {
  const br = entry.byteRange;
  if (!br) return ['the signature has no /ByteRange'];
  if (br.length !== 4 || !br.every((n) => Number.isInteger(n) && n >= 0)) return [`/ByteRange must be four non-negative integers, not [${br.join(' ')}]`];
  const [a, b, c, d] = br as [number, number, number, number];
  const problems: string[] = [];
  if (a !== 0) problems.push('/ByteRange does not start at the beginning of the file');
  if (c <= b) problems.push('/ByteRange ranges overlap or are out of order');
  if (c + d > bytes.length) problems.push('/ByteRange reaches past the end of the file');
  if (problems.length) return problems;
  if (bytes[b] !== 0x3c || bytes[c - 1] !== 0x3e) return ['the gap in /ByteRange is not the /Contents string'];
  const hex = bytes.toString('latin1', b + 1, c - 1).replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(hex) || !entry.contents || !Buffer.from(hex, 'hex').equals(entry.contents)) {
    problems.push('the gap in /ByteRange is not exactly the /Contents string');
  }
  return problems;
}

export function coverageOf(bytes: Buffer, entry: SignatureEntry, revisions: RevisionInfo[]): { revision: number | null; coverage: SignatureReport['coverage']; end: number } {
  const br = entry.byteRange!;
  const end = br[2]! + br[3]!;
  const trimmedEnd = (n: number): number => {
    let e = n;
    while (e > 0 && (bytes[e - 1] === 0x0a || bytes[e - 1] === 0x0d)) e--;
    return e;
  };
  const revision = revisions.find((r) => r.end === end || trimmedEnd(r.end) === trimmedEnd(end));
  if (!revision) return { revision: null, coverage: 'partial', end };
  const last = revisions[revisions.length - 1]!;
  return { revision: revision.index, coverage: revision.index === last.index && trimmedEnd(end) === trimmedEnd(bytes.length) ? 'entire-file' : 'entire-revision', end };
}

/**
 * Whether the signature dictionary (and the field holding it) were already there, with the same
 * /Contents and /ByteRange, in the revision the signature covers. A signature dictionary added
 * later that copies another signature's values would make a valid signature appear in a new
 * place (with an appearance of the attacker's choosing).
 */
export function signedInPlace(doc: PdfDocument, revision: number, entry: SignatureEntry): boolean {
  const view = doc.view(revision);
  const holder = entry.sigRef ?? entry.fieldRef;
  if (!holder) return true; // a direct field in a direct /Fields array: nothing to look up
  let sig: PdfDict | undefined;
  try {
    const value = view.resolveDict(holder);
    sig = entry.sigRef ? value : view.resolveDict(value?.get('V'));
  } catch {
    return false;
  }
  const contents = sig?.get('Contents');
  const byteRange = view.resolve(sig?.get('ByteRange'));
  return (
    contents instanceof PdfString &&
    entry.contents !== undefined &&
    contents.bytes.equals(entry.contents) &&
    Array.isArray(byteRange) &&
    entry.byteRange !== undefined &&
    byteRange.length === entry.byteRange.length &&
    byteRange.every((n, i) => n === entry.byteRange![i])
  );
}
