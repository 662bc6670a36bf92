import { PdfError } from './errors.js';
import { isName, PdfDict, PdfRef, type PdfValue } from './objects.js';

export interface PageInfo {
  readonly index: number;
  readonly ref: PdfRef;
  readonly dict: PdfDict;
  /** [llx, lly, urx, ury], inherited and normalised. */
  readonly mediaBox: [number, number, number, number];
  readonly cropBox: [number, number, number, number];
  readonly rotate: 0 | 90 | 180 | 270;
  readonly resources: PdfDict | undefined;
}

/** What the page tree walk needs from a document (any revision of it). */
export interface ObjectResolver {
  resolve(value: PdfValue | undefined): PdfValue | undefined;
  resolveDict(value: PdfValue | undefined): PdfDict | undefined;
  catalog(): PdfDict;
}

const MAX_PAGE_TREE_DEPTH = 64;

function toBox(value: PdfValue | undefined): [number, number, number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 4 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return undefined;
  }
  const [a, b, c, d] = value as number[];
  return [Math.min(a!, c!), Math.min(b!, d!), Math.max(a!, c!), Math.max(b!, d!)];
}

interface Inherited {
  mediaBox?: [number, number, number, number];
  cropBox?: [number, number, number, number];
  rotate?: number;
  resources?: PdfDict;
}

/** Walks the page tree once, with inheritance of MediaBox/CropBox/Rotate/Resources and cycle detection. */
export function walkPageTree(doc: ObjectResolver, maxPages: number): PageInfo[] {
  const pagesRef = doc.catalog().get('Pages');
  if (!(pagesRef instanceof PdfRef)) throw new PdfError('MALFORMED', 'the catalog has no page tree');
  const pages: PageInfo[] = [];
  const visited = new Set<number>();
  const walk = (ref: PdfRef, inherited: Inherited, depth: number): void => {
    if (depth > MAX_PAGE_TREE_DEPTH) throw new PdfError('LIMIT_EXCEEDED', 'page tree nested too deeply');
    if (visited.has(ref.num)) throw new PdfError('MALFORMED', 'the page tree has a cycle');
    visited.add(ref.num);
    const node = doc.resolveDict(ref);
    if (!node) throw new PdfError('MALFORMED', `page tree node ${ref.num} is missing`);
    const here: Inherited = {
      mediaBox: toBox(doc.resolve(node.get('MediaBox'))) ?? inherited.mediaBox,
      cropBox: toBox(doc.resolve(node.get('CropBox'))) ?? inherited.cropBox,
      rotate: (doc.resolve(node.get('Rotate')) as number | undefined) ?? inherited.rotate,
      resources: doc.resolveDict(node.get('Resources')) ?? inherited.resources,
    };
    const type = node.get('Type');
    const kids = doc.resolve(node.get('Kids'));
    if (isName(type, 'Pages') || (!isName(type) && Array.isArray(kids))) {
      if (!Array.isArray(kids)) throw new PdfError('MALFORMED', `page tree node ${ref.num} has no /Kids`);
      for (const kid of kids) if (kid instanceof PdfRef) walk(kid, here, depth + 1);
      return;
    }
    if (pages.length >= maxPages) throw new PdfError('LIMIT_EXCEEDED', `more than ${maxPages} pages`);
    const mediaBox = here.mediaBox ?? [0, 0, 612, 792];
    const rotation = ((((typeof here.rotate === 'number' ? Math.round(here.rotate / 90) * 90 : 0) % 360) + 360) % 360) as 0 | 90 | 180 | 270;
    pages.push({ index: pages.length, ref, dict: node, mediaBox, cropBox: here.cropBox ?? mediaBox, rotate: rotation, resources: here.resources });
  };
  walk(pagesRef, {}, 0);
  if (pages.length === 0) throw new PdfError('MALFORMED', 'the document has no pages');
  return pages;
}
