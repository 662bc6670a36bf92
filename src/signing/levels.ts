import type { PdfDocument, PdfLimits } from '../pdf/document.js';
import type { Timestamper } from '../pki/timestamper.js';
import { extendDocument, type MissingEvidence } from './extend.js';
import { sealDocument, type SealMaterial, type SealOptions } from './pades.js';
import { LevelUnavailableError } from './errors.js';

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


export interface SealedAtLevel {
  parts: Buffer[];
  fieldName: string;
  /** At B-LT and B-LTA: the level reached (lower when revocation data is missing) and what is missing. */
  reached?: PadesLevel;
  missing?: MissingEvidence[];
}

/**
 * Seals at the requested PAdES level: B-B; B-T adds a signature timestamp; B-LT then adds a
 * /DSS with the certificates, OCSP responses and CRLs of the signer's and the TSA's chains and
 * the signature's /VRI entry; B-LTA then adds a document timestamp over everything and, after
 * it, the validation data of that timestamp's TSA. Each step is an incremental update.
 */
export async function sealAtLevel(doc: PdfDocument, seal: SealMaterial, options: LevelOptions): Promise<SealedAtLevel> {
  const needsTsa = options.level !== 'B-B';
  if (needsTsa && !options.timestamper) throw new LevelUnavailableError(`level ${options.level} needs a time-stamping authority, and none is configured`);
  if ((options.level === 'B-LT' || options.level === 'B-LTA') && !options.evidence) throw new LevelUnavailableError(`level ${options.level} needs revocation data, and no source is configured`);
  const sealed = await sealDocument(doc, seal, { ...options, timestamper: needsTsa ? options.timestamper : undefined });
  if (options.level === 'B-B' || options.level === 'B-T') return { parts: [sealed.original, sealed.appended], fieldName: sealed.fieldName };

  // The new signature's validation data (and for B-LTA the document timestamp with its own
  // TSA's data after it), exactly as /v1/extend adds it, but for this signature only.
  const raised = await extendDocument(Buffer.concat([sealed.original, sealed.appended]), options.level, {
    timestamper: options.timestamper!,
    evidence: options.evidence!,
    limits: options.limits,
    field: sealed.fieldName,
  });
  return { parts: [raised.pdf], fieldName: sealed.fieldName, reached: raised.reached, missing: raised.missing };
}
