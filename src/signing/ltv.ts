import { createHash } from 'node:crypto';
import { PdfDocument, type PdfLimits } from '../pdf/document.js';
import { PdfError } from '../pdf/errors.js';
import { decodeStream } from '../pdf/filters.js';
import { IncrementalUpdate } from '../pdf/incremental.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../pdf/objects.js';
import { addSignatureField, fillByteRange, fillContents, pdfDate } from '../pdf/signature-field.js';
import type { Timestamper } from '../pki/timestamper.js';
import { tokenSizeHint } from './token-size.js';

export interface ValidationData {
  certificates: Buffer[];
  crls: Buffer[];
  ocspResponses?: Buffer[];
}

/** The validation data of one signature or document timestamp: it also gets a /VRI entry. */
export interface SignatureValidationData extends ValidationData {
  /** The signature's /Contents bytes as stored in the file, zero padding included. */
  contents: Buffer;
}

/**
 * The key of a signature's /VRI entry (ISO 32000-2 12.8.4.3, ETSI EN 319 142-1): the SHA-1 of
 * the bytes of the signature's /Contents string as stored (for a document timestamp, its
 * /Contents likewise), in uppercase hexadecimal.
 */
export function vriKey(contents: Buffer): string {
  return createHash('sha1').update(contents).digest('hex').toUpperCase();
}

/** The three kinds of evidence: /DSS array, /VRI array, field of ValidationData. */
const KINDS = [
  { dss: 'Certs', vri: 'Cert', field: 'certificates' },
  { dss: 'OCSPs', vri: 'OCSP', field: 'ocspResponses' },
  { dss: 'CRLs', vri: 'CRL', field: 'crls' },
] as const;

const MAX_EVIDENCE_BYTES = 32 * 1024 * 1024;

/** One /DSS array: the streams it lists already (kept), and the new ones, each item once. */
class EvidenceArray {
  readonly refs: PdfRef[] = [];
  private readonly byDigest = new Map<string, PdfRef>();

  constructor(
    doc: PdfDocument,
    private readonly update: IncrementalUpdate,
    existing: PdfValue | undefined,
  ) {
    const list = doc.resolve(existing);
    if (!Array.isArray(list)) return;
    for (const item of list) {
      if (!(item instanceof PdfRef)) continue;
      this.refs.push(item);
      const stream = doc.resolve(item);
      if (!(stream instanceof PdfStream)) continue;
      let bytes: Buffer;
      try {
        bytes = decodeStream(stream, MAX_EVIDENCE_BYTES);
      } catch {
        continue; // an unreadable old stream is kept, but never matches new evidence
      }
      this.byDigest.set(digest(bytes), item);
    }
  }

  /** The stream holding `bytes`: the existing one, or a new one added to the update. */
  refFor(bytes: Buffer): PdfRef {
    const key = digest(bytes);
    let ref = this.byDigest.get(key);
    if (!ref) {
      ref = this.update.add(new PdfStream(new PdfDict(), bytes));
      this.byDigest.set(key, ref);
      this.refs.push(ref);
    }
    return ref;
  }
}

const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function refsIn(doc: PdfDocument, value: PdfValue | undefined): PdfRef[] {
  const list = doc.resolve(value);
  return Array.isArray(list) ? list.filter((r): r is PdfRef => r instanceof PdfRef) : [];
}

/**
 * Adds (or extends) the document security store by incremental update (PAdES B-LT): `/DSS`
 * with the certificates, OCSP responses and CRLs validators need later, and, for each
 * signature given with its /Contents, a `/VRI` entry listing the ones that concern it, with
 * the time of the update (`/TU`). Existing DSS streams and VRI entries stay; a VRI entry for
 * a signature that has one already gets the union of old and new references.
 */
export function addValidationData(bytes: Buffer, data: ValidationData | SignatureValidationData[], limits?: PdfLimits, now = new Date()): Buffer {
  const items: Array<ValidationData & { contents?: Buffer }> = Array.isArray(data) ? data : [data];
  const doc = PdfDocument.load(bytes, limits);
  if (doc.encrypted) throw new PdfError('ENCRYPTED', 'the PDF is encrypted: validation data cannot be added to it');
  const update = new IncrementalUpdate(doc);
  const catalog = doc.catalog();
  const existing = doc.resolveDict(catalog.get('DSS'));
  const arrays = Object.fromEntries(KINDS.map((k) => [k.dss, new EvidenceArray(doc, update, existing?.get(k.dss))])) as Record<(typeof KINDS)[number]['dss'], EvidenceArray>;

  const existingVri = doc.resolveDict(existing?.get('VRI'));
  const vri = new PdfDict(existingVri?.entries);
  const entries = new Map<string, Map<string, PdfRef[]>>();
  for (const item of items) {
    const key = item.contents ? vriKey(item.contents) : undefined;
    let entry = key ? entries.get(key) : undefined;
    if (key && !entry) {
      const prior = doc.resolveDict(existingVri?.get(key));
      entry = new Map(KINDS.map((k) => [k.vri, refsIn(doc, prior?.get(k.vri))]));
      entries.set(key, entry);
    }
    for (const kind of KINDS) {
      for (const evidence of item[kind.field] ?? []) {
        const ref = arrays[kind.dss].refFor(evidence);
        const listed = entry?.get(kind.vri);
        if (listed && !listed.some((r) => r.num === ref.num)) listed.push(ref);
      }
    }
  }
  for (const [key, refs] of entries) {
    const prior = doc.resolveDict(existingVri?.get(key));
    const entry = new PdfDict(prior?.entries);
    for (const [name, list] of refs) {
      if (list.length) entry.set(name, list);
      else entry.delete(name);
    }
    entry.set('TU', new PdfString(Buffer.from(pdfDate(now), 'latin1')));
    vri.set(key, update.add(entry));
  }

  const dss = new PdfDict(existing?.entries).set('Type', PdfName.of('DSS'));
  for (const kind of KINDS) {
    const refs = arrays[kind.dss].refs;
    if (refs.length) dss.set(kind.dss, refs);
    else dss.delete(kind.dss);
  }
  if (vri.entries.size) dss.set('VRI', update.add(vri));
  const dssRef = update.add(dss);
  update.set(doc.rootRef, catalog.clone().set('DSS', dssRef));
  return Buffer.concat([bytes, update.write()]);
}

export interface DocumentTimestamp {
  /** The whole file, timestamp included. */
  bytes: Buffer;
  fieldName: string;
  /** The timestamp's /Contents as stored (token and zero padding): its VRI key is their SHA-1. */
  contents: Buffer;
}

/** Adds a document timestamp (`ETSI.RFC3161`) over the whole file (PAdES B-LTA). */
export async function addDocumentTimestamp(bytes: Buffer, timestamper: Timestamper, limits?: PdfLimits): Promise<DocumentTimestamp> {
  const doc = PdfDocument.load(bytes, limits);
  if (doc.encrypted) throw new PdfError('ENCRYPTED', 'the PDF is encrypted: a document timestamp cannot be added to it');
  const update = new IncrementalUpdate(doc);
  const holes = addSignatureField(update, { subFilter: 'ETSI.RFC3161', contentsSize: await tokenSizeHint(timestamper), widgets: [] });
  const appended = update.write();
  fillByteRange(appended, bytes.length, holes);
  const gap = holes.contents;
  const hash = createHash('sha256')
    .update(bytes)
    .update(appended.subarray(0, gap.offset))
    .update(appended.subarray(gap.offset + gap.length))
    .digest();
  fillContents(appended, holes, await timestamper.timestamp(hash, 'sha256'));
  // The hole is `<hex>`: what a reader decodes as /Contents is the hex between the brackets.
  const contents = Buffer.from(appended.toString('latin1', gap.offset + 1, gap.offset + gap.length - 1), 'hex');
  return { bytes: Buffer.concat([bytes, appended]), fieldName: holes.fieldName, contents };
}
