import type { PdfDocument, PdfLimits } from '../pdf/document.js';
import { extendedKeyUsage, readCertFields } from '../pki/cert-fields.js';
import { validatePath } from '../pki/path-validate.js';
import type { Timestamper } from '../pki/timestamper.js';
import { parseTimeStampToken } from '../pki/timestamp-token.js';
import { addDocumentTimestamp, addValidationData } from './ltv.js';
import { sealDocument, type SealMaterial, type SealOptions } from './pades.js';

const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export type PadesLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

/** Where validation data for B-LT comes from. */
export interface EvidenceSource {
  /** CRLs (DER) covering each certificate of a chain below its anchor. */
  crlsFor(chain: Buffer[]): Promise<Buffer[]>;
  /** OCSP responses (DER) for each certificate of a chain below its anchor. */
  ocspsFor(chain: Buffer[]): Promise<Buffer[]>;
  trustAnchors: Buffer[];
  intermediates: Buffer[];
}

export interface LevelOptions extends Omit<SealOptions, 'timestamper'> {
  level: PadesLevel;
  timestamper?: Timestamper;
  evidence?: EvidenceSource;
  limits?: PdfLimits;
}

export class LevelUnavailableError extends Error {
  override name = 'LevelUnavailableError';
}

/** The certificate path (DER, leaf first) of a certificate, as far as it can be built. */
function pathOf(leaf: Buffer, pool: Buffer[], evidence: EvidenceSource): Buffer[] {
  const path = validatePath(leaf, [...pool, ...evidence.intermediates], evidence.trustAnchors, new Date());
  return path.chain.map((c) => c.der);
}

/**
 * Seals at the requested PAdES level: B-B; B-T adds a signature timestamp; B-LT then adds a
 * /DSS with the certificates and CRLs of the signer's and the TSA's chains; B-LTA then adds a
 * document timestamp over everything. Each step is an incremental update.
 */
export async function sealAtLevel(doc: PdfDocument, seal: SealMaterial, options: LevelOptions): Promise<{ parts: Buffer[]; fieldName: string }> {
  const needsTsa = options.level !== 'B-B';
  if (needsTsa && !options.timestamper) throw new LevelUnavailableError(`level ${options.level} needs a time-stamping authority, and none is configured`);
  if ((options.level === 'B-LT' || options.level === 'B-LTA') && !options.evidence) throw new LevelUnavailableError(`level ${options.level} needs revocation data, and no source is configured`);
  const sealed = await sealDocument(doc, seal, { ...options, timestamper: needsTsa ? options.timestamper : undefined });
  if (options.level === 'B-B' || options.level === 'B-T') return { parts: [sealed.original, sealed.appended], fieldName: sealed.fieldName };

  const evidence = options.evidence!;
  const signerChain = pathOf(seal.cms.chainDer[0]!, [...seal.cms.chainDer], evidence);
  const tokenCerts = parseTimeStampToken(sealed.timestampToken!).signedData.certificates;
  const tsaCert = tokenCerts.find((c) => extendedKeyUsage(readCertFields(c))?.includes(TIME_STAMPING));
  const tsaChain = tsaCert ? pathOf(tsaCert, tokenCerts, evidence) : [];
  const crls = [...(await evidence.crlsFor(signerChain)), ...(await evidence.crlsFor(tsaChain))];
  const ocspResponses = [...(await evidence.ocspsFor(signerChain)), ...(await evidence.ocspsFor(tsaChain))];
  let bytes = addValidationData(Buffer.concat([sealed.original, sealed.appended]), { certificates: [...signerChain, ...tsaChain], crls, ocspResponses }, options.limits);
  if (options.level === 'B-LTA') bytes = await addDocumentTimestamp(bytes, options.timestamper!, options.limits);
  return { parts: [bytes], fieldName: sealed.fieldName };
}
