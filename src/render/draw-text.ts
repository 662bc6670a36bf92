import type { Color, PDFFont, PDFPage } from 'pdf-lib';
import type { Face, FontSet } from './font-set.js';

/** The document's fonts: the faces and their embedded (subset) PDF fonts. */
export interface DocumentFonts {
  set: FontSet;
  pdf: Map<Face, PDFFont>;
}

/**
 * Draws one line at `x` and `baseline` (from the page's top-left corner), switching to the
 * second face for the characters the Song face lacks.
 */
export function drawLine(page: PDFPage, fonts: DocumentFonts, text: string, x: number, baseline: number, size: number, color: Color): void {
  const y = page.getHeight() - baseline;
  let at = x;
  for (const run of fonts.set.runs(text)) {
    page.drawText(run.text, { x: at, y, size, font: fonts.pdf.get(run.face)!, color });
    at += fonts.set.width(run.text, size);
  }
}
