/**
 * The way through an OFD package (GB/T 33190) to its first page: `OFD.xml` names the document
 * (`DocBody/DocRoot`), the document names its pages (`Pages/Page BaseLoc`), its default page
 * area and its resource files (`PublicRes`, `DocumentRes`; a page may add `PageRes`). Paths in
 * the package are absolute when they start with `/`, else relative to the file that names them;
 * a resource file's `BaseLoc` is the folder its media files are relative to.
 */
import { OfdError } from './ofd-error.js';
import { child, childrenNamed, parseXml, type XmlElement, type XmlLimits } from './xml.js';
import type { ZipArchive } from './zip-reader.js';

export const XML_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 50_000 };

/** Resource files per document: more than any writer makes. */
const MAX_RESOURCE_FILES = 16;

export interface ColorSpace {
  type: string;
  bitsPerComponent: number;
}

export interface OfdResources {
  colorSpaces: Map<string, ColorSpace>;
  drawParams: Map<string, XmlElement>;
  /** Multimedia (images) by ID: the package path of the file and its declared format. */
  media: Map<string, { path: string; format: string }>;
}

export interface OfdFirstPage {
  /** The page's PhysicalBox in millimetres: x, y, width, height. */
  box: [number, number, number, number];
  content: XmlElement;
  resources: OfdResources;
  defaultColorSpace: string | null;
}

function folderOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
}

/** A package path: `ref` resolved against `folder`, without `.`/`..` steps; null when it leaves the package. */
export function resolvePath(folder: string, ref: string): string | null {
  const parts: string[] = [];
  for (const part of (ref.startsWith('/') ? ref : `${folder}/${ref}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!parts.length) return null;
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join('/');
}

function readXml(zip: ZipArchive, path: string | null, what: string): XmlElement {
  const data = path === null ? null : zip.get(path);
  if (!data) throw new OfdError(`the package has no ${what}${path ? ` (${path})` : ''}`);
  return parseXml(data, path!, XML_LIMITS);
}

/** The numbers of a box attribute "x y w h" in millimetres, checked. */
export function boxOf(text: string | undefined, what: string): [number, number, number, number] {
  const values = (text ?? '').trim().split(/\s+/).map(Number);
  if (values.length !== 4 || !values.every(Number.isFinite)) throw new OfdError(`${what} "${text ?? ''}" is not four numbers`);
  const [x, y, w, h] = values as [number, number, number, number];
  if (w <= 0 || h <= 0 || w > 1000 || h > 1000 || Math.abs(x) > 1000 || Math.abs(y) > 1000) throw new OfdError(`${what} "${text}" is not a page size (up to 1000 mm)`);
  return [x, y, w, h];
}

function addResources(zip: ZipArchive, path: string | null, into: OfdResources): void {
  const res = readXml(zip, path, 'resource file');
  const base = resolvePath(folderOf(path!), res.attributes.BaseLoc ?? '') ?? '';
  for (const cs of childrenNamed(child(res, 'ColorSpaces'), 'ColorSpace')) {
    if (cs.attributes.ID) into.colorSpaces.set(cs.attributes.ID, { type: (cs.attributes.Type ?? 'RGB').toUpperCase(), bitsPerComponent: Number(cs.attributes.BitsPerComponent ?? 8) });
  }
  for (const param of childrenNamed(child(res, 'DrawParams'), 'DrawParam')) {
    if (param.attributes.ID) into.drawParams.set(param.attributes.ID, param);
  }
  for (const media of childrenNamed(child(res, 'MultiMedias'), 'MultiMedia')) {
    const file = child(media, 'MediaFile')?.text.trim();
    const target = file ? resolvePath(base, file) : null;
    if (media.attributes.ID && target) into.media.set(media.attributes.ID, { path: target, format: (media.attributes.Format ?? '').toUpperCase() });
  }
}

export function readFirstPage(zip: ZipArchive): OfdFirstPage {
  const ofd = readXml(zip, 'OFD.xml', 'OFD.xml at its root: it is not an OFD package');
  const docRoot = child(child(ofd, 'DocBody'), 'DocRoot')?.text.trim();
  if (!docRoot) throw new OfdError('OFD.xml names no document (DocBody/DocRoot)');
  const docPath = resolvePath('', docRoot);
  const doc = readXml(zip, docPath, 'document that OFD.xml names');
  const docFolder = folderOf(docPath!);

  const pageRef = child(child(doc, 'Pages'), 'Page')?.attributes.BaseLoc;
  if (!pageRef) throw new OfdError(`the document ${docPath} has no page`);
  const pagePath = resolvePath(docFolder, pageRef);
  const page = readXml(zip, pagePath, 'first page');
  const pageFolder = folderOf(pagePath!);

  const common = child(doc, 'CommonData');
  const boxText = child(child(page, 'Area'), 'PhysicalBox')?.text ?? child(child(common, 'PageArea'), 'PhysicalBox')?.text;
  if (boxText === undefined) throw new OfdError('the first page has no PhysicalBox, nor has the document a default one');
  const box = boxOf(boxText, 'the page PhysicalBox');

  const resources: OfdResources = { colorSpaces: new Map(), drawParams: new Map(), media: new Map() };
  const resourceFiles = [
    ...[...childrenNamed(common, 'PublicRes'), ...childrenNamed(common, 'DocumentRes')].map((r) => resolvePath(docFolder, r.text.trim())),
    ...childrenNamed(page, 'PageRes').map((r) => resolvePath(pageFolder, r.text.trim())),
  ];
  if (resourceFiles.length > MAX_RESOURCE_FILES) throw new OfdError(`the document names ${resourceFiles.length} resource files, more than ${MAX_RESOURCE_FILES}`);
  for (const file of resourceFiles) addResources(zip, file, resources);

  const content = child(page, 'Content');
  if (!content) throw new OfdError(`the first page (${pagePath}) has no content`);
  return { box, content, resources, defaultColorSpace: child(common, 'DefaultCS')?.text.trim() || null };
}
