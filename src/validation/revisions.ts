import type { PdfDocument } from '../pdf/document.js';

export interface RevisionInfo {
  index: number;
  /** Offset just past the revision's `%%EOF`. */
  end: number;
}

/** The file's revisions, oldest first. */
export function revisionsOf(doc: PdfDocument): RevisionInfo[] {
  return doc.revisions.map((r) => ({ index: r.index, end: r.end }));
}
