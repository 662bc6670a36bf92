import type { ExplainedChange } from './types.js';

/** The certification of the document (catalog /Perms /DocMDP) and the field locks in force. */
export interface ModificationConstraints {
  /** The revision the certification signature covers, and its DocMDP permission. */
  certification?: { revision: number; permission: 1 | 2 | 3; field: string };
  /** FieldMDP locks: fields locked by a signature covering `revision`. */
  locks: Array<{ revision: number; by: string; locks: (fieldName: string) => boolean }>;
  /** Whether the signature whose dictionary is object `num` validates (integrity and trusted path). */
  signatureValidates: (num: number) => boolean;
}

export interface Judgement {
  permitted: boolean;
  /** Why not, when not. */
  reason?: string;
  attack?: string;
}

/** Decides whether one explained change is allowed, given the certification and locks in force when it was made. */
export function judgeChange(change: ExplainedChange, constraints: ModificationConstraints): Judgement {
  const cert = constraints.certification && change.revision > constraints.certification.revision ? constraints.certification : undefined;
  const p = cert?.permission;
  const lock = change.field ? constraints.locks.find((l) => change.revision > l.revision && l.locks(change.field!)) : undefined;
  switch (change.need) {
    case 'always':
      return { permitted: true };
    case 'never':
      return { permitted: false, reason: 'a change to signed content', ...(change.attack ? { attack: change.attack } : {}) };
    case 'signature':
      if (p === 1) return { permitted: false, reason: 'the certification (DocMDP P=1) permits no further signatures', attack: 'certification-violation' };
      if (lock) return { permitted: false, reason: `field "${change.field}" is locked by the signature "${lock.by}" (FieldMDP)` };
      if (cert && change.signatureDict !== undefined && !constraints.signatureValidates(change.signatureDict)) {
        return { permitted: false, reason: 'a signature that does not validate was added after certification: its appearance can show anything (sneaky signature)', attack: 'sneaky-signature' };
      }
      return { permitted: true };
    case 'form-fill':
      if (p === 1) return { permitted: false, reason: 'the certification (DocMDP P=1) permits no form filling' };
      if (lock) return { permitted: false, reason: `field "${change.field}" is locked by the signature "${lock.by}" (FieldMDP)` };
      return { permitted: true };
    case 'annotation':
      if (cert && p !== 3) return { permitted: false, reason: `the certification (DocMDP P=${p}) does not permit annotations`, attack: 'evil-annotation' };
      return { permitted: true };
  }
}
