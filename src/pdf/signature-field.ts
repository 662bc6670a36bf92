import { PdfError } from './errors.js';
import type { PageInfo } from './document.js';
import type { PreparedImage } from './image.js';
import { addImageXObject } from './image.js';
import type { IncrementalUpdate } from './incremental.js';
import { isName, PdfDict, PdfHole, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from './objects.js';
import { formatNumber } from './serialize.js';

export type Box = [number, number, number, number];

/**
 * Where a widget goes, in the page as displayed: points from the top-left corner of the visible
 * page (crop box, after `/Rotate`).
 */
export interface DisplayedRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface SealWidget {
  pageIndex: number;
  rect: DisplayedRect;
  /** The part of the image this widget shows, as a fraction of its width (seam seals show slices). */
  slice?: { from: number; to: number };
}

export interface SignatureFieldRequest {
  /** The PAdES and PKCS#7 sub-filters, or the one the service writes for GB/T 38540 seal signatures. */
  subFilter: 'ETSI.CAdES.detached' | 'adbe.pkcs7.detached' | 'ETSI.RFC3161' | 'GB.T38540.SES_Signature';
  /** Bytes reserved for the CMS blob. */
  contentsSize: number;
  signingTime?: Date;
  reason?: string;
  location?: string;
  signerName?: string;
  /** Visible widgets; none means an invisible signature. */
  widgets: SealWidget[];
  image?: PreparedImage;
  /** Makes this a certification signature with this DocMDP permission. */
  docMdp?: 1 | 2 | 3;
}

export interface SignatureHoles {
  contents: PdfHole;
  byteRange: PdfHole;
  fieldName: string;
}

export function pdfDate(date: Date): string {
  const iso = date.toISOString();
  return `D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** Displayed size of a page in points (width, height after rotation). */
export function displayedSize(page: PageInfo): { width: number; height: number } {
  const [llx, lly, urx, ury] = page.cropBox;
  const w = urx - llx;
  const h = ury - lly;
  return page.rotate % 180 === 0 ? { width: w, height: h } : { width: h, height: w };
}

/** Maps a point of the displayed page (from its top-left) into the page's user space. */
export function displayedToUser(page: PageInfo, x: number, y: number): [number, number] {
  const [llx, lly, urx, ury] = page.cropBox;
  switch (page.rotate) {
    case 90:
      return [llx + y, lly + x];
    case 180:
      return [urx - x, lly + y];
    case 270:
      return [urx - y, ury - x];
    default:
      return [llx + x, ury - y];
  }
}

/** Maps a point of the page's user space to the displayed page (from its top-left). */
export function userToDisplayed(page: PageInfo, ux: number, uy: number): [number, number] {
  const [llx, lly, urx, ury] = page.cropBox;
  switch (page.rotate) {
    case 90:
      return [uy - lly, ux - llx];
    case 180:
      return [urx - ux, uy - lly];
    case 270:
      return [ury - uy, urx - ux];
    default:
      return [ux - llx, ury - uy];
  }
}

function userRect(page: PageInfo, rect: DisplayedRect): Box {
  const [x1, y1] = displayedToUser(page, rect.left, rect.top);
  const [x2, y2] = displayedToUser(page, rect.left + rect.width, rect.top + rect.height);
  return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
}

const ROTATION_MATRIX: Record<PageInfo['rotate'], number[]> = {
  0: [1, 0, 0, 1, 0, 0],
  90: [0, 1, -1, 0, 0, 0],
  180: [-1, 0, 0, -1, 0, 0],
  270: [0, -1, 1, 0, 0, 0],
};

function appearanceStream(widget: SealWidget, page: PageInfo, imageRef: PdfRef): PdfStream {
  const { width, height } = widget.rect;
  const slice = widget.slice ?? { from: 0, to: 1 };
  const fullWidth = width / (slice.to - slice.from);
  const dx = -slice.from * fullWidth;
  const content = `q /GS0 gs ${formatNumber(fullWidth)} 0 0 ${formatNumber(height)} ${formatNumber(dx)} 0 cm /Seal Do Q\n`;
  const resources = new PdfDict([
    ['XObject', new PdfDict([['Seal', imageRef]])],
    // Multiply lets the text under the seal show through, as with ink on paper.
    ['ExtGState', new PdfDict([['GS0', new PdfDict([['Type', PdfName.of('ExtGState')], ['BM', PdfName.of('Multiply')]])]])],
  ]);
  const formDict = new PdfDict([
    ['Type', PdfName.of('XObject')],
    ['Subtype', PdfName.of('Form')],
    ['BBox', [0, 0, width, height]],
    ['Matrix', ROTATION_MATRIX[page.rotate]],
    ['Resources', resources],
  ]);
  return new PdfStream(formDict, Buffer.from(content, 'latin1'));
}

function existingFieldNames(update: IncrementalUpdate, fields: PdfValue[] | undefined): Set<string> {
  const names = new Set<string>();
  for (const field of fields ?? []) {
    const dict = update.doc.resolveDict(field);
    const title = dict?.get('T');
    if (title instanceof PdfString) names.add(title.toText());
  }
  return names;
}

/** Adds `widget` to the page's `/Annots`, copying whichever object holds the array. */
function appendAnnotation(update: IncrementalUpdate, page: PageInfo, widget: PdfRef): void {
  const pageDict = update.current(page.ref);
  if (!(pageDict instanceof PdfDict)) throw new PdfError('MALFORMED', `page ${page.index + 1} is not a dictionary`);
  const annots = pageDict.get('Annots');
  if (annots instanceof PdfRef) {
    const array = update.current(annots);
    if (Array.isArray(array)) {
      update.set(annots, [...array, widget]);
      return;
    }
  }
  const list = Array.isArray(annots) ? [...annots, widget] : [widget];
  update.set(page.ref, pageDict.clone().set('Annots', list));
}

/**
 * Adds a signature field (with its widgets, appearance and signature dictionary) to the update
 * and registers it in the AcroForm. The signature's `/Contents` and `/ByteRange` are holes to be
 * filled once the update is laid out.
 */
export function addSignatureField(update: IncrementalUpdate, request: SignatureFieldRequest): SignatureHoles {
  const { doc } = update;
  const pages = doc.pages();
  const catalog = update.current(doc.rootRef);
  if (!(catalog instanceof PdfDict)) throw new PdfError('MALFORMED', 'the document catalog is not a dictionary');
  const newCatalog = catalog.clone();

  let acroFormRef: PdfRef | undefined;
  let acroForm: PdfDict;
  const acroFormValue = catalog.get('AcroForm');
  if (acroFormValue instanceof PdfRef) {
    acroFormRef = acroFormValue;
    acroForm = (doc.resolveDict(acroFormValue) ?? new PdfDict()).clone();
  } else if (acroFormValue instanceof PdfDict) {
    acroForm = acroFormValue.clone();
  } else {
    acroForm = new PdfDict();
  }
  const fieldsValue = acroForm.get('Fields');
  const fieldsArray = doc.resolve(fieldsValue);
  const fields = Array.isArray(fieldsArray) ? fieldsArray : [];
  const taken = existingFieldNames(update, fields);
  let n = fields.length + 1;
  while (taken.has(`Seal${n}`)) n++;
  const fieldName = `Seal${n}`;

  const contents = new PdfHole('contents', request.contentsSize);
  const byteRange = new PdfHole('byteRange');
  const sigDict = new PdfDict([
    ['Type', PdfName.of(request.subFilter === 'ETSI.RFC3161' ? 'DocTimeStamp' : 'Sig')],
    ['Filter', PdfName.of('Adobe.PPKLite')],
    ['SubFilter', PdfName.of(request.subFilter)],
    ['ByteRange', byteRange],
    ['Contents', contents],
  ]);
  if (request.signingTime) sigDict.set('M', new PdfString(Buffer.from(pdfDate(request.signingTime), 'latin1')));
  if (request.signerName) sigDict.set('Name', PdfString.fromText(request.signerName));
  if (request.reason) sigDict.set('Reason', PdfString.fromText(request.reason));
  if (request.location) sigDict.set('Location', PdfString.fromText(request.location));
  const sigRef = update.allocate();

  if (request.docMdp) {
    const signed = fields.some((f) => {
      const fieldDict = doc.resolveDict(f);
      return isName(fieldDict?.get('FT'), 'Sig') && fieldDict?.get('V') !== undefined;
    });
    if (catalog.get('Perms') !== undefined || signed) {
      throw new PdfError('UNSUPPORTED', 'a certification signature must be the first signature of a document');
    }
    const transformParams = new PdfDict([
      ['Type', PdfName.of('TransformParams')],
      ['P', request.docMdp],
      ['V', PdfName.of('1.2')],
    ]);
    sigDict.set('Reference', [
      new PdfDict([
        ['Type', PdfName.of('SigRef')],
        ['TransformMethod', PdfName.of('DocMDP')],
        ['TransformParams', transformParams],
      ]),
    ]);
    newCatalog.set('Perms', new PdfDict([['DocMDP', sigRef]]));
  }
  update.set(sigRef, sigDict);

  const imageRef = request.widgets.length > 0 && request.image ? addImageXObject(update, request.image) : undefined;
  const fieldRef = update.allocate();
  const field = new PdfDict([
    ['FT', PdfName.of('Sig')],
    ['T', PdfString.fromText(fieldName)],
    ['V', sigRef],
  ]);
  const widgets = request.widgets.length > 0 ? request.widgets : [{ pageIndex: 0, rect: undefined }];
  const makeWidget = (widget: SealWidget | { pageIndex: number; rect: undefined }, merged: boolean): PdfDict => {
    const page = pages[widget.pageIndex];
    if (!page) throw new PdfError('UNSUPPORTED', `the document has no page ${widget.pageIndex + 1}`);
    // Kids also carry /V: poppler treats any kid with /Parent as a field of its own and reads
    // /V without inheritance, so without it each slice would show as an unsigned field.
    const annot = merged ? field : new PdfDict([['Parent', fieldRef], ['V', sigRef]]);
    annot.set('Type', PdfName.of('Annot')).set('Subtype', PdfName.of('Widget'));
    annot.set('F', 132); // Print | Locked
    annot.set('P', page.ref);
    if (widget.rect && imageRef) {
      annot.set('Rect', userRect(page, widget.rect));
      const ap = update.add(appearanceStream(widget as SealWidget, page, imageRef));
      annot.set('AP', new PdfDict([['N', ap]]));
      if (page.rotate) annot.set('MK', new PdfDict([['R', page.rotate]]));
    } else {
      annot.set('Rect', [0, 0, 0, 0]);
    }
    return annot;
  };

  if (widgets.length === 1) {
    makeWidget(widgets[0]!, true);
    update.set(fieldRef, field);
    appendAnnotation(update, pages[widgets[0]!.pageIndex]!, fieldRef);
  } else {
    const kids: PdfRef[] = [];
    for (const widget of widgets) {
      const kidRef = update.add(makeWidget(widget, false));
      kids.push(kidRef);
      appendAnnotation(update, pages[widget.pageIndex]!, kidRef);
    }
    field.set('Kids', kids);
    update.set(fieldRef, field);
  }

  const newFields = [...fields, fieldRef];
  if (fieldsValue instanceof PdfRef && Array.isArray(fieldsArray)) update.set(fieldsValue, newFields);
  else acroForm.set('Fields', newFields);
  acroForm.set('SigFlags', 3);
  let catalogChanged = request.docMdp !== undefined;
  if (acroFormRef) {
    update.set(acroFormRef, acroForm);
  } else if (acroFormValue instanceof PdfDict) {
    newCatalog.set('AcroForm', acroForm);
    catalogChanged = true;
  } else {
    newCatalog.set('AcroForm', update.add(acroForm));
    catalogChanged = true;
  }
  if (catalogChanged) update.set(doc.rootRef, newCatalog);
  return { contents, byteRange, fieldName };
}

/** Fills the `/ByteRange` hole and returns the two ranges (offsets within the whole file). */
export function fillByteRange(appended: Buffer, originalLength: number, holes: SignatureHoles): [number, number, number, number] {
  const { contents, byteRange } = holes;
  const gapStart = originalLength + contents.offset;
  const gapEnd = gapStart + contents.length;
  const total = originalLength + appended.length;
  const ranges: [number, number, number, number] = [0, gapStart, gapEnd, total - gapEnd];
  const text = `[${ranges.join(' ')}]`;
  if (text.length > byteRange.length) throw new Error('byte range does not fit its placeholder');
  appended.write(text.padEnd(byteRange.length, ' '), byteRange.offset, 'latin1');
  return ranges;
}

/** Writes the CMS blob into the `/Contents` hole. */
export function fillContents(appended: Buffer, holes: SignatureHoles, cms: Buffer): void {
  const { contents } = holes;
  if (cms.length > contents.size) {
    throw new Error(`signature of ${cms.length} bytes does not fit the ${contents.size} bytes reserved`);
  }
  appended.write(cms.toString('hex'), contents.offset + 1, 'latin1');
}
