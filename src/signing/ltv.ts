import { createHash } from 'node:crypto';
import { PdfDocument, type PdfLimits } from '../pdf/document.js';
import { PdfError } from '../pdf/errors.js';
import { IncrementalUpdate } from '../pdf/incremental.js';
import { PdfDict, PdfName, PdfRef, PdfStream } from '../pdf/objects.js';
import { addSignatureField, fillByteRange, fillContents } from '../pdf/signature-field.js';
import type { Timestamper } from '../pki/timestamper.js';
import { tokenSizeHint } from './token-size.js';

export interface ValidationData {
  certificates: Buffer[];
  crls: Buffer[];
  ocspResponses?: Buffer[];
}

function unique(items: Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = createHash('sha256').update(item).digest('hex');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Adds (or extends) the document security store: `/DSS` with the certificates, CRLs and OCSP
 * responses validators need later, by incremental update (PAdES B-LT). Existing entries stay.
 */
export function addValidationData(bytes: Buffer, data: ValidationData, limits?: PdfLimits): Buffer {
  const doc = PdfDocument.load(bytes, limits);
  if (doc.encrypted) throw new PdfError('ENCRYPTED', 'the PDF is encrypted: validation data cannot be added to it');
  const update = new IncrementalUpdate(doc);
  const catalog = doc.catalog();
  const existing = doc.resolveDict(catalog.get('DSS'));
  const existingRefs = (key: string): PdfRef[] => {
    const list = doc.resolve(existing?.get(key));
    return Array.isArray(list) ? list.filter((r): r is PdfRef => r instanceof PdfRef) : [];
  };
  const existingBytes = (key: string): Buffer[] =>
    existingRefs(key)
      .map((r) => doc.resolve(r))
      .filter((v): v is PdfStream => v instanceof PdfStream)
      .map((v) => v.raw);
  const streams = (key: string, items: Buffer[]): PdfRef[] => {
    const have = existingBytes(key);
    const fresh = unique(items).filter((item) => !have.some((h) => h.equals(item)));
    return [...existingRefs(key), ...fresh.map((item) => update.add(new PdfStream(new PdfDict(), item)))];
  };
  const dss = new PdfDict([['Type', PdfName.of('DSS')]]);
  const certs = streams('Certs', data.certificates);
  const crls = streams('CRLs', data.crls);
  const ocsps = streams('OCSPs', data.ocspResponses ?? []);
  if (certs.length) dss.set('Certs', certs);
  if (crls.length) dss.set('CRLs', crls);
  if (ocsps.length) dss.set('OCSPs', ocsps);
  const dssRef = update.add(dss);
  update.set(doc.rootRef, catalog.clone().set('DSS', dssRef));
  return Buffer.concat([bytes, update.write()]);
}

/** Adds a document timestamp (`ETSI.RFC3161`) over the whole file (PAdES B-LTA). */
export async function addDocumentTimestamp(bytes: Buffer, timestamper: Timestamper, limits?: PdfLimits): Promise<Buffer> {
  const doc = PdfDocument.load(bytes, limits);
  if (doc.encrypted) throw new PdfError('ENCRYPTED', 'the PDF is encrypted: a document timestamp cannot be added to it');
  const update = new IncrementalUpdate(doc);
  const holes = addSignatureField(update, { subFilter: 'ETSI.RFC3161', contentsSize: await tokenSizeHint(timestamper), widgets: [] });
  const appended = update.write();
  fillByteRange(appended, bytes.length, holes);
  const digest = createHash('sha256')
    .update(bytes)
    .update(appended.subarray(0, holes.contents.offset))
    .update(appended.subarray(holes.contents.offset + holes.contents.length))
    .digest();
  fillContents(appended, holes, await timestamper.timestamp(digest, 'sha256'));
  return Buffer.concat([bytes, appended]);
}
