import { PdfError } from '../pdf/errors.js';
import { PdfDocument, type PdfLimits } from '../pdf/document.js';
import { findSignatures, type SignatureEntry } from '../pdf/signatures.js';
import { Asn1Error } from '../pki/asn1.js';
import { OID } from '../pki/oids.js';
import { looksLikeSesSignature, parseSesSignature } from '../pki/ses/ses-parse.js';
import { CmsError, parseSignedData } from '../pki/signed-data.js';
import type { Timestamper } from '../pki/timestamper.js';
import type { EvidenceSource, PadesLevel } from './levels.js';
import { certificatesOf, gatherEvidence, type MissingEvidence } from './ltv-evidence.js';
import { addDocumentTimestamp, addValidationData } from './ltv.js';

export type { MissingEvidence } from './ltv-evidence.js';
import { LtvIncompleteError, NothingToExtendError } from './errors.js';



export interface ExtendOptions {
  timestamper: Timestamper;
  evidence: EvidenceSource;
  limits?: PdfLimits;
  /** Throw LtvIncompleteError, before any timestamp is asked for, when revocation data is missing. */
  strict?: boolean;
  /** Only the signature in this field (sealing); by default every signature and timestamp of the file. */
  field?: string;
}

export interface ExtendResult {
  pdf: Buffer;
  requested: 'B-LT' | 'B-LTA';
  /** The level every signature of the file now reaches: below `requested` when data is missing. */
  reached: PadesLevel;
  /** Certificates without revocation data (each once). */
  missing: MissingEvidence[];
  /** Signatures whose CMS cannot be read: nothing was added for them and they count for no level. */
  unreadable: string[];
}

const ORDER: PadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];

function hasSignatureTimestamp(contents: Buffer): boolean {
  if (looksLikeSesSignature(contents)) {
    try {
      return parseSesSignature(contents, true).timeStamp !== null;
    } catch (err) {
      if (err instanceof Asn1Error) return false;
      throw err;
    }
  }
  try {
    return parseSignedData(contents).signers.some((s) => (s.unsignedAttrs.get(OID.signatureTimeStampToken) ?? []).length > 0);
  } catch (err) {
    if (err instanceof CmsError) return false;
    throw err;
  }
}

const endOf = (entry: SignatureEntry): number => (entry.byteRange?.length === 4 ? entry.byteRange[2]! + entry.byteRange[3]! : 0);

/**
 * What each signature reaches once this extension is done. A signature has a time (B-T) from
 * its own signature timestamp or a document timestamp after it; its validation data is complete
 * (B-LT) only when nothing is missing; B-LTA needs a document timestamp over that data, and the
 * one added now covers it only if the signature had its time before (otherwise that timestamp
 * is its B-T, and the next extension makes it B-LTA).
 */
function reachedLevel(entries: SignatureEntry[], level: 'B-LT' | 'B-LTA', complete: boolean): PadesLevel {
  const docStamps = entries.filter((e) => e.subFilter === 'ETSI.RFC3161');
  const signatures = entries.filter((e) => e.subFilter !== 'ETSI.RFC3161');
  const levels = signatures.map((sig): PadesLevel => {
    const timedBefore = hasSignatureTimestamp(sig.contents!) || docStamps.some((d) => endOf(d) > endOf(sig));
    if (!complete) return timedBefore || level === 'B-LTA' ? 'B-T' : 'B-B';
    if (!timedBefore) return level === 'B-LTA' ? 'B-LT' : 'B-B';
    return level;
  });
  // A file of document timestamps only: each is its own time.
  if (levels.length === 0) return complete ? level : 'B-T';
  return levels.reduce((low, l) => (ORDER.indexOf(l) < ORDER.indexOf(low) ? l : low));
}

/**
 * Raises the level of an already signed PDF without touching its signatures. B-LT adds to /DSS
 * the validation data of every signature and timestamp in the file, with a /VRI entry each;
 * B-LTA then adds a document timestamp and, in a further update, the validation data of that
 * timestamp's own TSA chain, so that the file validates offline while that TSA certificate is
 * valid. Run again later, it adds fresh evidence and a new document timestamp (archive renewal).
 * Missing revocation data is reported, never hidden: `reached` says what the file is.
 */
export async function extendDocument(bytes: Buffer, level: 'B-LT' | 'B-LTA', options: ExtendOptions): Promise<ExtendResult> {
  const doc = PdfDocument.load(bytes, options.limits);
  if (doc.encrypted) throw new PdfError('ENCRYPTED', 'the PDF is encrypted: validation data added to it would have to be encrypted with its key, which this service does not do');
  const all = findSignatures(doc).filter((e) => e.contents && (options.field === undefined || e.fieldName === options.field));
  const readable = all.filter((e) => parseable(e.contents!));
  if (readable.length === 0) throw new NothingToExtendError('the document has no signature to extend');
  const unreadable = all.filter((e) => !readable.includes(e)).map((e) => e.fieldName);

  const gathered = await gatherEvidence(readable.map((e) => e.contents!), options.evidence);
  const missing = [...gathered.missing];
  if (options.strict && missing.length) throw new LtvIncompleteError(missing);
  let out = addValidationData(bytes, gathered.items, options.limits);
  if (level === 'B-LTA') {
    const stamp = await addDocumentTimestamp(out, options.timestamper, options.limits);
    const own = await gatherEvidence([stamp.contents], options.evidence);
    const known = new Set(missing.map((m) => `${m.issuer}|${m.serialNumber}`));
    missing.push(...own.missing.filter((m) => !known.has(`${m.issuer}|${m.serialNumber}`)));
    if (options.strict && missing.length) throw new LtvIncompleteError(missing);
    out = addValidationData(stamp.bytes, own.items, options.limits);
  }
  return { pdf: out, requested: level, reached: reachedLevel(readable, level, missing.length === 0), missing, unreadable };
}

const parseable = (contents: Buffer): boolean => certificatesOf(contents) !== undefined;
