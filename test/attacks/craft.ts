import { createHash } from 'node:crypto';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { PdfDocument } from '../../src/pdf/document.js';
import { IncrementalUpdate } from '../../src/pdf/incremental.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../../src/pdf/objects.js';
import { addSignatureField, fillByteRange, fillContents } from '../../src/pdf/signature-field.js';
import type { SealMaterial } from '../../src/signing/pades.js';

/** An object written by hand into an update: `body` is what stands between `obj` and `endobj`. */
export interface RawObject {
  num: number;
  gen?: number;
  body: string;
}

export interface RawUpdateOptions {
  /** Xref entries pointing at bytes already in the file (object number -> offset). */
  pointAt?: Array<{ num: number; offset: number; gen?: number }>;
  /** Object numbers the update marks free. */
  free?: number[];
  /** Objects written into the body that the update's xref does not list. */
  unlisted?: RawObject[];
  /** Extra xref lines listed after the regular ones (e.g. the same object twice). */
  extraEntries?: Array<{ num: number; offset: number }>;
  /** Extra trailer entries, as PDF text. */
  trailerExtra?: string;
  /** Replaces the /Prev value. */
  prev?: number;
}

export function streamBody(dict: string, data: string): string {
  return `<< ${dict} /Length ${Buffer.byteLength(data, 'latin1')} >>\nstream\n${data}\nendstream`;
}

const entryLine = (offset: number, gen = 0, type: 'n' | 'f' = 'n'): string => `${String(offset).padStart(10, '0')} ${String(gen).padStart(5, '0')} ${type}\r\n`;

/**
 * Appends an incremental update written by hand, with a classic xref section: the tool for
 * updates no honest writer produces (xref entries pointing into signed bytes, duplicates,
 * objects the xref does not list).
 */
export function appendRawUpdate(pdf: Buffer, objects: RawObject[], options: RawUpdateOptions = {}): Buffer {
  const doc = PdfDocument.load(pdf);
  let body = pdf[pdf.length - 1] === 0x0a ? '' : '\n';
  const offsets: Array<{ num: number; offset: number; gen: number }> = [];
  for (const object of [...(options.unlisted ?? []), ...objects]) {
    const offset = pdf.length + Buffer.byteLength(body, 'latin1');
    body += `${object.num} ${object.gen ?? 0} obj\n${object.body}\nendobj\n`;
    if (!options.unlisted?.includes(object)) offsets.push({ num: object.num, offset, gen: object.gen ?? 0 });
  }
  for (const p of options.pointAt ?? []) offsets.push({ num: p.num, offset: p.offset, gen: p.gen ?? 0 });
  const xrefOffset = pdf.length + Buffer.byteLength(body, 'latin1');
  let xref = 'xref\n0 1\n0000000000 65535 f\r\n';
  for (const o of offsets.sort((a, b) => a.num - b.num)) xref += `${o.num} 1\n${entryLine(o.offset, o.gen)}`;
  for (const num of options.free ?? []) xref += `${num} 1\n${entryLine(0, 1, 'f')}`;
  for (const e of options.extraEntries ?? []) xref += `${e.num} 1\n${entryLine(e.offset)}`;
  const size = Math.max(doc.size, ...offsets.map((o) => o.num + 1), ...(options.extraEntries ?? []).map((e) => e.num + 1));
  const info = doc.trailer.get('Info');
  const trailer = `trailer\n<< /Size ${size} /Root ${doc.rootRef.num} ${doc.rootRef.gen} R${info instanceof PdfRef ? ` /Info ${info.num} ${info.gen} R` : ''} /Prev ${options.prev ?? doc.startXref} ${options.trailerExtra ?? ''}>>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.concat([pdf, Buffer.from(body + xref + trailer, 'latin1')]);
}

/** Where object `num` starts in the file, by the newest xref. */
export function offsetOf(pdf: Buffer, num: number): number {
  const entry = PdfDocument.load(pdf).entry(num);
  if (entry?.kind !== 'offset') throw new Error(`object ${num} is not at an offset`);
  return entry.offset;
}

/** Offset of the first `num 0 obj` written after `from`. */
export function definitionAfter(pdf: Buffer, num: number, from: number): number {
  const at = pdf.indexOf(`\n${num} 0 obj`, Math.max(0, from - 1), 'latin1');
  if (at < 0) throw new Error(`no definition of ${num} after ${from}`);
  return at + 1;
}

/** Page 1's reference, its dictionary and its content stream numbers. */
export function firstPage(pdf: Buffer): { ref: PdfRef; dict: PdfDict; contents: number[] } {
  const doc = PdfDocument.load(pdf);
  const page = doc.pages()[0]!;
  const value = page.dict.get('Contents');
  const contents = value instanceof PdfRef ? [value.num] : Array.isArray(value) ? value.filter((v): v is PdfRef => v instanceof PdfRef).map((r) => r.num) : [];
  return { ref: page.ref, dict: page.dict, contents };
}

/** Writes a PDF dictionary as text (enough for the values these tests use). */
export function pdfText(value: PdfValue): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof PdfName) return `/${value.value}`;
  if (value instanceof PdfRef) return `${value.num} ${value.gen} R`;
  if (value instanceof PdfString) return `<${value.bytes.toString('hex')}>`;
  if (Array.isArray(value)) return `[${value.map(pdfText).join(' ')}]`;
  if (value instanceof PdfDict) return `<< ${[...value.entries].map(([k, v]) => `/${k} ${pdfText(v)}`).join(' ')} >>`;
  throw new Error('streams are written with streamBody');
}

/** A page dictionary as text with some keys replaced. */
export function pageWith(dict: PdfDict, changes: Record<string, string>): string {
  const parts = [...dict.entries].filter(([k]) => !(k in changes)).map(([k, v]) => `/${k} ${pdfText(v)}`);
  for (const [k, v] of Object.entries(changes)) parts.push(`/${k} ${v}`);
  return `<< ${parts.join(' ')} >>`;
}

/** A one-page PDF with a text form field and a second one, made by pdf-lib. */
export async function makeFormPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([595.28, 841.89]);
  page.drawText('Application form', { x: 56, y: 760, size: 18, font });
  const form = pdf.getForm();
  form.createTextField('applicant').addToPage(page, { x: 56, y: 600, width: 300, height: 24 });
  form.createTextField('notes').addToPage(page, { x: 56, y: 500, width: 300, height: 24 });
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

/** Fills a text field by incremental update: new /V and a new appearance stream, as a form filler does. */
export function fillTextField(pdf: Buffer, name: string, value: string): Buffer {
  const doc = PdfDocument.load(pdf);
  const update = new IncrementalUpdate(doc);
  const fields = doc.resolve(doc.resolveDict(doc.catalog().get('AcroForm'))?.get('Fields')) as PdfValue[];
  for (const item of fields) {
    const field = doc.resolveDict(item)!;
    if ((field.get('T') as PdfString).toText() !== name) continue;
    const ap = update.add(new PdfStream(new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 300, 24]]]), Buffer.from(`BT /Helv 12 Tf 2 6 Td (${value}) Tj ET`)));
    const kids = doc.resolve(field.get('Kids'));
    const widgets = Array.isArray(kids) && kids.length > 0 ? (kids as PdfRef[]) : [item as PdfRef];
    const changed = field.clone().set('V', PdfString.fromText(value));
    if (widgets[0]!.num === (item as PdfRef).num) changed.set('AP', new PdfDict([['N', ap]]));
    else for (const w of widgets) update.set(w, doc.resolveDict(w)!.clone().set('AP', new PdfDict([['N', ap]])));
    update.set(item as PdfRef, changed);
    return Buffer.concat([pdf, update.write()]);
  }
  throw new Error(`no field ${name}`);
}

/**
 * Signs with an invisible signature whose dictionary gets extra entries before it is written
 * (a FieldMDP reference, say): what other products write and this service does not.
 */
export async function signWithSigDictExtras(pdf: Buffer, material: SealMaterial, extras: (sig: PdfDict) => void): Promise<Buffer> {
  const doc = PdfDocument.load(pdf);
  const update = new IncrementalUpdate(doc);
  const holes = addSignatureField(update, { subFilter: 'ETSI.CAdES.detached', contentsSize: material.cms.maxLength(), signingTime: new Date(), widgets: [] });
  for (let num = doc.size; num < doc.size + 50; num++) {
    const ref = new PdfRef(num, 0);
    const value = update.has(ref) ? update.current(ref) : undefined;
    if (value instanceof PdfDict && value.get('Type') instanceof PdfName && (value.get('Type') as PdfName).value === 'Sig') extras(value);
  }
  const appended = update.write();
  const ranges = fillByteRange(appended, pdf.length, holes);
  const full = Buffer.concat([pdf, appended]);
  const digest = createHash('sha256').update(full.subarray(ranges[0], ranges[0] + ranges[1])).update(full.subarray(ranges[2], ranges[2] + ranges[3])).digest();
  fillContents(full.subarray(pdf.length), holes, (await material.cms.sign(digest)).encode());
  return full;
}
