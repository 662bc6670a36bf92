import { PdfError } from '../pdf/errors.js';
import { PdfDocument, type PdfLimits } from '../pdf/document.js';
import { findSignatures } from '../pdf/signatures.js';
import { validatePath } from '../pki/path-validate.js';
import { OID } from '../pki/oids.js';
import { CmsError, parseSignedData } from '../pki/signed-data.js';
import type { Timestamper } from '../pki/timestamper.js';
import type { EvidenceSource } from './levels.js';
import { addDocumentTimestamp, addValidationData } from './ltv.js';

export class NothingToExtendError extends Error {
  override name = 'NothingToExtendError';
}

/** Every certificate a signature or timestamp in the file carries (CMS certificates, TSA tokens). */
function certificatesInSignatures(doc: PdfDocument): Buffer[][] {
  const groups: Buffer[][] = [];
  for (const sig of findSignatures(doc)) {
    if (!sig.contents) continue;
    try {
      const signedData = parseSignedData(sig.contents);
      groups.push(signedData.certificates);
      for (const signer of signedData.signers) {
        for (const token of signer.unsignedAttrs.get(OID.signatureTimeStampToken) ?? []) {
          try {
            groups.push(parseSignedData(token.raw).certificates);
          } catch {
            // a broken token adds no evidence
          }
        }
      }
    } catch (err) {
      if (!(err instanceof CmsError)) throw err;
    }
  }
  return groups;
}

/**
 * Raises the level of an already signed PDF without touching its signatures: B-LT adds the
 * validation data of every signature and timestamp in the file to /DSS; B-LTA then adds a
 * document timestamp. Run again later, it adds the new evidence and a new document timestamp
 * (archive renewal).
 */
export async function extendDocument(bytes: Buffer, level: 'B-LT' | 'B-LTA', deps: { timestamper: Timestamper; evidence: EvidenceSource; limits?: PdfLimits }): Promise<Buffer> {
  const doc = PdfDocument.load(bytes, deps.limits);
  if (doc.encrypted) throw new PdfError('ENCRYPTED', 'the PDF is encrypted: validation data added to it would have to be encrypted with its key, which this service does not do');
  const groups = certificatesInSignatures(doc);
  if (groups.length === 0) throw new NothingToExtendError('the document has no signature to extend');
  const certificates: Buffer[] = [];
  const crls: Buffer[] = [];
  const ocspResponses: Buffer[] = [];
  for (const group of groups) {
    for (const cert of group) {
      const path = validatePath(cert, [...group, ...deps.evidence.intermediates], deps.evidence.trustAnchors, new Date());
      const chain = path.chain.map((c) => c.der);
      certificates.push(...chain);
      crls.push(...(await deps.evidence.crlsFor(chain)));
      ocspResponses.push(...(await deps.evidence.ocspsFor(chain)));
    }
  }
  let out = addValidationData(bytes, { certificates, crls, ocspResponses }, deps.limits);
  if (level === 'B-LTA') out = await addDocumentTimestamp(out, deps.timestamper, deps.limits);
  return out;
}
