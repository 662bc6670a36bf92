import type { PdfDocument } from '../pdf/document.js';
import { displayedSize } from '../pdf/signature-field.js';
import { findText } from '../pdf/text-locate.js';
import type { Placement } from './pades.js';
import { PlacementError } from './errors.js';

const MM = 72 / 25.4;

/** Where the caller asked the seal to go, as given (lengths in `unit`, positions as displayed, from the top-left). */
export interface PlacementRequest {
  mode: 'stamp' | 'seam' | 'invisible';
  page?: number;
  x?: number;
  y?: number;
  width?: number;
  unit: 'mm' | 'pt';
  anchor?: string;
}


/** Default spot when none is given: on the last page, lower right, where a document is sealed. */
const DEFAULT_FROM_RIGHT_MM = 50;
const DEFAULT_FROM_BOTTOM_MM = 60;

/** The placement in points on a page of `doc`, for a seal `diameterMm` across unless the request sets a width. */
export function placementFor(doc: PdfDocument, request: PlacementRequest, diameterMm: number): Placement {
  const scale = request.unit === 'mm' ? MM : 1;
  const size = request.width !== undefined ? request.width * scale : diameterMm * MM;
  if (size > 300 * MM) throw new PlacementError('invalid-placement', 'The seal is too large', 'width is at most 300 mm');
  if (request.mode === 'invisible') return { kind: 'invisible' };
  const pages = doc.pages();
  if (request.mode === 'seam') {
    if (pages.length < 2) throw new PlacementError('invalid-placement', 'A seam seal needs at least two pages', `the document has ${pages.length} page`);
    return { kind: 'seam', size, centerY: request.y !== undefined ? request.y * scale : undefined };
  }
  if (request.anchor) {
    const hit = findText(doc, request.anchor);
    if (!hit) throw new PlacementError('anchor-not-found', 'The anchor text is not in the document', `"${request.anchor}" was not found`);
    return { kind: 'stamp', pageIndex: hit.pageIndex, centerX: hit.center.x, centerY: hit.center.y, size };
  }
  const pageIndex = request.page !== undefined ? request.page - 1 : pages.length - 1;
  const page = pages[pageIndex];
  if (!page) throw new PlacementError('invalid-placement', 'No such page', `the document has ${pages.length} page(s)`);
  const { width, height } = displayedSize(page);
  const centerX = request.x !== undefined ? request.x * scale : width - DEFAULT_FROM_RIGHT_MM * MM;
  const centerY = request.y !== undefined ? request.y * scale : height - DEFAULT_FROM_BOTTOM_MM * MM;
  if (centerX > width || centerY > height) {
    throw new PlacementError('invalid-placement', 'The seal is outside the page', `page ${pageIndex + 1} is ${(width / MM).toFixed(1)} x ${(height / MM).toFixed(1)} mm`);
  }
  return { kind: 'stamp', pageIndex, centerX, centerY, size };
}
