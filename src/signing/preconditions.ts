import type { PdfDocument } from '../pdf/document.js';
import { certificationPermission } from '../pdf/signatures.js';
import { NotSealableError } from './errors.js';


/**
 * Refuses what would give a seal that verifiers reject: a document certified with DocMDP P=1
 * (no change at all is permitted after it, so a new seal would break the certification), and a
 * file whose cross-reference information had to be rebuilt by scanning (an update chained to
 * a damaged xref is not something other readers can follow reliably), and an encrypted file
 * (the appended objects would have to be encrypted with the document's key).
 */
export function assertSealable(doc: PdfDocument): void {
  if (doc.encrypted) {
    throw new NotSealableError('encrypted', 'the PDF is encrypted: a seal added to it would have to be written with the document\'s key, which this service does not do. Remove the encryption (or send an unencrypted copy) to seal it');
  }
  if (doc.reconstructed) {
    throw new NotSealableError('needs-repair', 'the file\'s cross-reference information is damaged; it could only be read by rebuilding it, and a seal added by incremental update would not verify reliably elsewhere. Save the file again with a PDF tool and send that');
  }
  if (certificationPermission(doc) === 1) {
    throw new NotSealableError('certified-no-changes', 'the document is certified with DocMDP permission 1 (no changes allowed): a seal added now would invalidate the certification. Only validation data and document timestamps (/v1/extend) may be added');
  }
}
