import type { PdfValue } from '../../pdf/objects.js';

/** What kind of thing a later revision did, as a reader of the report groups them. */
export type ChangeCategory = 'security' | 'signing' | 'form' | 'annotation' | 'metadata' | 'structure' | 'other';

/**
 * When a change is allowed: `always` (validation data, document timestamps, metadata,
 * bookkeeping), `signature` (adding signatures: not under DocMDP P=1; under certification only a
 * signature that validates), `form-fill` (P>=2 and not locked by a FieldMDP), `annotation` (no
 * certification or P=3), `never` (a change to signed content).
 */
export type ChangeNeed = 'always' | 'signature' | 'form-fill' | 'annotation' | 'never';

/** An object that differs between two consecutive revisions. */
export interface RawChange {
  num: number;
  kind: 'added' | 'modified' | 'deleted';
  before: PdfValue | undefined;
  after: PdfValue | undefined;
}

/** Why a change is there: the rule that explains it (or, for `never`, names what it is). */
export interface Explanation {
  rule: string;
  category: ChangeCategory;
  need: ChangeNeed;
  description: string;
  /** A known attack class this change belongs to, when it is one. */
  attack?: string;
  pages?: number[];
  /** For `signature`: the signature dictionary added, whose own validity decides under certification. */
  signatureDict?: number;
  /** For `form-fill` and filling signature fields: the field's full name (FieldMDP locks). */
  field?: string;
  /** Drawn over the page (an annotation or visible widget): shown to the reader even when permitted. */
  overlay?: boolean;
}

/** One change after a revision, explained. */
export interface ExplainedChange extends Explanation {
  object: number;
  /** Revision (0-based) that made the change. */
  revision: number;
  kind: RawChange['kind'];
}
