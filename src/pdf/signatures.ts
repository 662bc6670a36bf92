import type { PdfDocument } from './document.js';
import { terminalFields } from './form-fields.js';
import { isName, PdfDict, PdfName, PdfRef, PdfString, type PdfValue } from './objects.js';

/** A signature (or document timestamp) dictionary found through the AcroForm, as stored. */
export interface SignatureEntry {
  /** Fully qualified field name (parent names joined with dots). */
  fieldName: string;
  fieldRef: PdfRef | undefined;
  /** Object number of the signature dictionary, when it is an indirect object. */
  sigRef: PdfRef | undefined;
  type: string | undefined;
  filter: string | undefined;
  subFilter: string | undefined;
  /** The /Contents bytes (CMS, usually zero-padded). */
  contents: Buffer | undefined;
  byteRange: number[] | undefined;
  /** `/M`, as written (a PDF date string). */
  claimedTime: string | undefined;
  reason: string | undefined;
  location: string | undefined;
  name: string | undefined;
  /** The DocMDP permission its signature references carry (whether it certifies is the catalog's to say). */
  docMdpPermission: 1 | 2 | 3 | undefined;
  /** The FieldMDP lock of this signature (its /Reference, else the field's /Lock). */
  fieldLock: FieldLock | undefined;
}

/** Which fields a signature locks (ISO 32000-2 12.8.2.4). */
export interface FieldLock {
  action: 'All' | 'Include' | 'Exclude';
  fields: string[];
}

function fieldLockOf(doc: PdfDocument, sig: PdfDict, field: PdfDict): FieldLock | undefined {
  const parse = (params: PdfDict | undefined): FieldLock | undefined => {
    const action = doc.resolve(params?.get('Action'));
    if (!isName(action) || !['All', 'Include', 'Exclude'].includes(action.value)) return undefined;
    const list = doc.resolve(params?.get('Fields'));
    const fields = Array.isArray(list) ? list.map((f) => doc.resolve(f)).filter((f): f is PdfString => f instanceof PdfString).map((f) => f.toText()) : [];
    return { action: action.value as FieldLock['action'], fields };
  };
  const references = doc.resolve(sig.get('Reference'));
  if (Array.isArray(references)) {
    for (const item of references) {
      const ref = doc.resolveDict(item);
      if (ref && isName(doc.resolve(ref.get('TransformMethod')), 'FieldMDP')) return parse(doc.resolveDict(ref.get('TransformParams')));
    }
  }
  return parse(doc.resolveDict(field.get('Lock')));
}

/** Whether a lock covers a field (a lock on a field covers its descendants too). */
export function lockCovers(lock: FieldLock, fieldName: string): boolean {
  const named = lock.fields.some((f) => fieldName === f || fieldName.startsWith(`${f}.`));
  return lock.action === 'All' || (lock.action === 'Include' ? named : !named);
}

/** The signature dictionary the catalog names as the certification (`/Perms /DocMDP`), if any. */
export function certificationSignatureRef(doc: Pick<PdfDocument, 'catalog' | 'resolveDict'>): number | undefined {
  const perms = doc.resolveDict(doc.catalog().get('Perms'));
  const docMdp = perms?.get('DocMDP');
  return docMdp instanceof PdfRef ? docMdp.num : undefined;
}


function text(value: PdfValue | undefined): string | undefined {
  return value instanceof PdfString ? value.toText() : undefined;
}

function docMdpOf(doc: PdfDocument, sig: PdfDict): 1 | 2 | 3 | undefined {
  const references = doc.resolve(sig.get('Reference'));
  if (!Array.isArray(references)) return undefined;
  for (const item of references) {
    const ref = doc.resolveDict(item);
    if (!ref || !isName(doc.resolve(ref.get('TransformMethod')), 'DocMDP')) continue;
    const params = doc.resolveDict(ref.get('TransformParams'));
    const p = doc.resolve(params?.get('P'));
    return p === 1 || p === 3 ? p : 2; // 2 is the default
  }
  return undefined;
}

/** Parses a PDF date (D:YYYYMMDDHHmmSSOHH'mm') into a Date, or undefined. */
export function parsePdfDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?'?/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, oh = '00', om = '00'] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (sign === '+' || sign === '-') {
    const offset = (Number(oh) * 60 + Number(om)) * 60_000;
    ms += sign === '+' ? -offset : offset;
  }
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/** Every signature field with a value, in field-tree order. */
export function findSignatures(doc: PdfDocument): SignatureEntry[] {
  const found: SignatureEntry[] = [];
  for (const field of terminalFields(doc)) {
    if (field.type !== 'Sig') continue;
    const v = field.dict.get('V');
    const sig = doc.resolveDict(v) ?? (v instanceof PdfRef && doc.unreadable.has(v.num) ? new PdfDict() : undefined);
    if (!sig) continue;
    const contents = doc.resolve(sig.get('Contents'));
    const byteRange = doc.resolve(sig.get('ByteRange'));
    const filter = doc.resolve(sig.get('Filter'));
    const subFilter = doc.resolve(sig.get('SubFilter'));
    const type = doc.resolve(sig.get('Type'));
    found.push({
      fieldName: field.name,
      fieldRef: field.ref,
      sigRef: v instanceof PdfRef ? v : undefined,
      type: type instanceof PdfName ? type.value : undefined,
      filter: filter instanceof PdfName ? filter.value : undefined,
      subFilter: subFilter instanceof PdfName ? subFilter.value : undefined,
      contents: contents instanceof PdfString ? contents.bytes : undefined,
      byteRange: Array.isArray(byteRange) && byteRange.every((n) => typeof n === 'number') ? (byteRange as number[]) : undefined,
      claimedTime: text(sig.get('M')),
      reason: text(sig.get('Reason')),
      location: text(sig.get('Location')),
      name: text(sig.get('Name')),
      docMdpPermission: docMdpOf(doc, sig),
      fieldLock: fieldLockOf(doc, sig, field.dict),
    });
  }
  return found;
}

/** The DocMDP permission of the document's certification, when the catalog names one. */
export function certificationPermission(doc: PdfDocument): 1 | 2 | 3 | undefined {
  const ref = certificationSignatureRef(doc);
  if (ref === undefined) return undefined;
  const sig = doc.resolveDict(new PdfRef(ref, 0));
  return sig ? (docMdpOf(doc, sig) ?? 2) : undefined;
}
