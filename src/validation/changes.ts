import { checkDeadline, rethrowIfOutOfTime } from '../limits/deadline.js';
import { PdfDocument } from '../pdf/document.js';
import { isName, PdfDict, PdfRef, PdfStream, type PdfValue } from '../pdf/objects.js';

/** What a later revision did, sorted as established validators do. */
export type ChangeCategory = 'security' | 'signing' | 'annotation' | 'other';

export interface ObjectChange {
  object: number;
  /** Revision (0-based) that made the change. */
  revision: number;
  kind: 'added' | 'modified' | 'deleted';
  category: ChangeCategory;
  description: string;
  /** 1-based page numbers the change touches, when known. */
  pages?: number[];
}

export interface RevisionInfo {
  index: number;
  /** Offset just past the revision's `%%EOF`. */
  end: number;
  objectNums: number[];
}

/** The file's revisions, oldest first. */
export function revisionsOf(doc: PdfDocument): RevisionInfo[] {
  return [...doc.sections]
    .reverse()
    .map((section, index) => ({ index, end: section.end, objectNums: [...new Set(section.objectNums)].sort((a, b) => a - b) }));
}

function typeName(value: PdfValue | undefined): string | undefined {
  const dict = value instanceof PdfStream ? value.dict : value instanceof PdfDict ? value : undefined;
  const type = dict?.get('Type');
  return isName(type) ? type.value : undefined;
}

function refsIn(value: PdfValue | undefined): number[] {
  return Array.isArray(value) ? value.filter((v): v is PdfRef => v instanceof PdfRef).map((r) => r.num) : [];
}

function sameValue(a: PdfValue | undefined, b: PdfValue | undefined): boolean {
  if (a === b) return true;
  if (a instanceof PdfRef && b instanceof PdfRef) return a.num === b.num && a.gen === b.gen;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a instanceof PdfDict && b instanceof PdfDict) {
    if (a.entries.size !== b.entries.size) return false;
    for (const [k, v] of a.entries) if (!sameValue(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof PdfStream && b instanceof PdfStream) return a.raw.equals(b.raw) && sameValue(a.dict, b.dict);
  if ('bytes' in a && 'bytes' in b) return (a.bytes as Buffer).equals(b.bytes as Buffer);
  if ('value' in a && 'value' in b) return a.value === b.value;
  return false;
}

function changedKeys(before: PdfDict, after: PdfDict): string[] {
  const keys = new Set([...before.entries.keys(), ...after.entries.keys()]);
  return [...keys].filter((k) => !sameValue(before.get(k), after.get(k)));
}

/**
 * Compares each revision after `fromRevision` with the one before it and sorts every object
 * it added, changed or deleted. Objects are judged by what they are and, for changed objects,
 * by which keys changed: a page that only gained signature widgets is signing; a page whose
 * content or resources changed is "other".
 */
export function changesAfter(doc: PdfDocument, fromRevision: number): ObjectChange[] {
  const revisions = revisionsOf(doc);
  const changes: ObjectChange[] = [];
  const pageNumbers = new Map<number, number>();
  try {
    doc.pages().forEach((p) => pageNumbers.set(p.ref.num, p.index + 1));
  } catch (err) {
    rethrowIfOutOfTime(err);
    // pages unknown: changes are still listed, without page numbers
  }
  let previous = PdfDocument.load(doc.bytes.subarray(0, revisions[fromRevision]!.end), doc.limits);
  for (const revision of revisions.slice(fromRevision + 1)) {
    checkDeadline();
    const current = PdfDocument.load(doc.bytes.subarray(0, revision.end), doc.limits);
    const dssNums = new Set<number>();
    const dss = current.resolveDict(current.catalog().get('DSS'));
    const dssRef = current.catalog().get('DSS');
    if (dssRef instanceof PdfRef) dssNums.add(dssRef.num);
    for (const key of ['Certs', 'OCSPs', 'CRLs']) for (const n of refsIn(current.resolve(dss?.get(key)))) dssNums.add(n);
    const vri = current.resolveDict(dss?.get('VRI'));
    if (dss?.get('VRI') instanceof PdfRef) dssNums.add((dss.get('VRI') as PdfRef).num);
    for (const entry of vri?.entries.values() ?? []) if (entry instanceof PdfRef) dssNums.add(entry.num);

    for (const num of revision.objectNums) {
      const after = current.getObject(num);
      const before = previous.entry(num) ? previous.getObject(num) : undefined;
      const pages = pageNumbers.has(num) ? [pageNumbers.get(num)!] : undefined;
      const push = (kind: ObjectChange['kind'], category: ChangeCategory, description: string): void => {
        changes.push({ object: num, revision: revision.index, kind, category, description, ...(pages ? { pages } : {}) });
      };
      const type = typeName(after);
      if (type === 'XRef' || type === 'ObjStm') continue; // containers; their objects are listed themselves
      if (after === undefined || after === null) {
        if (before !== undefined && before !== null) push('deleted', 'other', `object ${num} (${typeName(before) ?? 'untyped'}) deleted`);
        continue;
      }
      if (before === undefined || before === null) {
        changes.push(classifyAdded(current, num, after, dssNums, revision.index, pageNumbers));
        continue;
      }
      if (sameValue(before, after)) continue;
      push('modified', ...classifyModified(previous, current, num, before, after, dssNums));
    }
    previous = current;
  }
  return changes;
}

function classifyAdded(doc: PdfDocument, num: number, value: PdfValue, dssNums: Set<number>, revision: number, pageNumbers: Map<number, number>): ObjectChange {
  const base = { object: num, revision, kind: 'added' as const };
  const type = typeName(value);
  if (dssNums.has(num) || type === 'DocTimeStamp') return { ...base, category: 'security', description: `validation data or document timestamp (object ${num})` };
  if (type === 'Sig') return { ...base, category: 'signing', description: `signature dictionary (object ${num})` };
  const dict = value instanceof PdfDict ? value : undefined;
  if (dict && isName(dict.get('Subtype'), 'Widget')) {
    const parent = doc.resolveDict(dict.get('Parent'));
    const ft = dict.get('FT') ?? parent?.get('FT');
    return isName(ft, 'Sig')
      ? { ...base, category: 'signing', description: `signature widget (object ${num})` }
      : { ...base, category: 'signing', description: `form field widget (object ${num})` };
  }
  if (dict && isName(dict.get('FT'), 'Sig')) return { ...base, category: 'signing', description: `signature field (object ${num})` };
  if (dict && (type === 'Annot' || dict.has('Subtype') && dict.has('Rect'))) {
    const page = dict.get('P') instanceof PdfRef ? pageNumbers.get((dict.get('P') as PdfRef).num) : undefined;
    const subtype = isName(dict.get('Subtype')) ? (dict.get('Subtype') as { value: string }).value : 'unknown';
    return {
      ...base,
      category: 'annotation',
      description: `${subtype} annotation added${page ? ` on page ${page}` : ''}: it is drawn over the signed page and can hide or replace signed content (overlay)`,
      ...(page ? { pages: [page] } : {}),
    };
  }
  // Any other new object is only reachable through a changed existing object, which is judged itself.
  return { ...base, category: 'signing', description: `new ${type ?? (value instanceof PdfStream ? 'stream' : 'object')} (object ${num}), reachable only through the changes listed` };
}

function annotationsCategory(doc: PdfDocument, before: PdfValue | undefined, after: PdfValue | undefined): [ChangeCategory, string] {
  const oldRefs = refsIn(doc.resolve(before));
  const newRefs = refsIn(doc.resolve(after));
  if (!oldRefs.every((n, i) => newRefs[i] === n)) return ['other', 'annotations removed or reordered'];
  const added = newRefs.slice(oldRefs.length);
  let category: ChangeCategory = 'signing';
  for (const n of added) {
    const annot = doc.resolveDict(new PdfRef(n, 0));
    if (!annot) continue;
    if (isName(annot.get('Subtype'), 'Widget')) continue;
    category = 'annotation';
  }
  return [category, `${added.length} annotation(s) added`];
}

function classifyModified(
  before: PdfDocument,
  after: PdfDocument,
  num: number,
  oldValue: PdfValue,
  newValue: PdfValue,
  dssNums: Set<number>,
): [ChangeCategory, string] {
  if (dssNums.has(num)) return ['security', `validation data updated (object ${num})`];
  if (oldValue instanceof PdfStream || newValue instanceof PdfStream) {
    return ['other', `stream object ${num} (${typeName(newValue) ?? 'content'}) changed`];
  }
  if (Array.isArray(oldValue) && Array.isArray(newValue)) {
    const [category, what] = annotationsCategory(after, oldValue, newValue);
    const isPrefix = oldValue.every((v, i) => sameValue(v, newValue[i]));
    return isPrefix ? [category, `array object ${num}: ${what}`] : ['other', `array object ${num} changed`];
  }
  if (!(oldValue instanceof PdfDict) || !(newValue instanceof PdfDict)) return ['other', `object ${num} changed`];
  const keys = changedKeys(oldValue, newValue);
  const type = typeName(newValue);
  if (type === 'Catalog') {
    const other = keys.filter((k) => !['DSS', 'AcroForm'].includes(k));
    if (other.length) return ['other', `document catalog changed: ${other.join(', ')}`];
    return keys.includes('AcroForm') ? ['signing', 'form added to the catalog'] : ['security', 'validation data added to the catalog'];
  }
  if (type === 'Page') {
    const other = keys.filter((k) => k !== 'Annots');
    if (other.length) return ['other', `page changed: ${other.join(', ')}`];
    return annotationsCategory(after, oldValue.get('Annots'), newValue.get('Annots'));
  }
  if (newValue.has('Fields') || oldValue.has('Fields')) {
    const other = keys.filter((k) => !['Fields', 'SigFlags', 'NeedAppearances', 'DR', 'DA'].includes(k));
    if (other.length) return ['other', `form changed: ${other.join(', ')}`];
    const oldFields = refsIn(before.resolve(oldValue.get('Fields')));
    const newFields = refsIn(after.resolve(newValue.get('Fields')));
    if (!oldFields.every((n, i) => newFields[i] === n)) return ['other', 'form fields removed or reordered'];
    return ['signing', `${newFields.length - oldFields.length} form field(s) added`];
  }
  if (isName(newValue.get('Subtype'), 'Widget') || newValue.has('FT')) {
    const wasSigned = oldValue.get('V') !== undefined && isName(oldValue.get('FT') ?? newValue.get('FT'), 'Sig');
    if (wasSigned) return ['other', `signed field ${num} changed: ${keys.join(', ')}`];
    const formKeys = ['V', 'AP', 'AS', 'MK', 'Lock', 'SV'];
    if (keys.every((k) => formKeys.includes(k))) return ['signing', `field ${num} filled in or signed`];
    return ['other', `field ${num} changed: ${keys.join(', ')}`];
  }
  if (type === 'Annot') return ['annotation', `annotation ${num} changed`];
  return ['other', `object ${num}${type ? ` (${type})` : ''} changed: ${keys.join(', ') || 'value'}`];
}
