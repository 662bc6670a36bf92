/** The validation report: per signature an ETSI EN 319 102-1 style result and the art. 13 conditions. */

export type Indication = 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE';

export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'REVOKED'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'SIG_CONSTRAINTS_FAILURE'
  | 'CHAIN_CONSTRAINTS_FAILURE'
  | 'CRYPTO_CONSTRAINTS_FAILURE'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'REVOKED_NO_POE'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'OUT_OF_BOUNDS_NOT_REVOKED'
  | 'TRY_LATER'
  | 'SIGNED_DATA_NOT_FOUND';

export type ConditionStatus = 'met' | 'not met' | 'unknown';

export interface Condition {
  status: ConditionStatus;
  reason: string;
}

/** The four conditions of a reliable electronic signature (PRC Electronic Signature Law, art. 13). */
export interface StatutoryConditions {
  creationDataExclusiveToSigner: Condition;
  creationDataUnderSoleControl: Condition;
  signatureAlterationDetectable: Condition;
  documentAlterationDetectable: Condition;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
}

export type { RevocationEvidence } from '../contracts/revocation.js';
import type { RevocationEvidence } from '../contracts/revocation.js';


export interface TimestampReport {
  kind: 'signature-timestamp' | 'document-timestamp';
  time: string;
  valid: boolean;
  tsa: string | null;
  /** The TSA chain's revocation status for the token's time (embedded evidence first). */
  revocation?: RevocationEvidence;
  problems: string[];
}

export interface ChangeReport {
  revision: number;
  object: number;
  kind: 'added' | 'modified' | 'deleted';
  category: 'security' | 'signing' | 'form' | 'annotation' | 'metadata' | 'structure' | 'other';
  /** The change rule that explained it (`default-deny` when none did). */
  rule: string;
  description: string;
  permitted: boolean;
  /** Why it is not permitted. */
  reason?: string;
  /** The known attack class the change belongs to, when not permitted. */
  attack?: string;
  /** Drawn over the page (an annotation or a widget): the page may look different from what was signed. */
  overlay?: boolean;
  pages?: number[];
}

/** A national e-seal (GB/T 38540 SESeal) carried by a seal signature, and the checks of the seal itself. */
export interface NationalSealReport {
  standard: 'GB/T 38540-2020' | 'GM/T 0031-2014';
  esId: string;
  name: string;
  type: number;
  vendorId: string;
  validFrom: string;
  validTo: string;
  picture: { format: string; widthMm: number; heightMm: number };
  /** The seal maker (制章者) certificate. */
  maker: { subject: string; issuer: string; serialNumber: string } | null;
  makerTrusted: boolean;
  /** The maker certificate chain's revocation status at the signing time, when it was checked. */
  makerRevocation?: RevocationEvidence;
  propertyInfo: string;
  /** Each check of GB/T 38540 by name: seal-maker-signature, seal-validity, seal-certificate-listed, signature-value, data-hash, ... */
  checks: Array<{ name: string; passed: boolean; detail: string }>;
  valid: boolean;
}

export interface SignatureReport {
  fieldName: string;
  kind: 'signature' | 'document-timestamp';
  subFilter: string | null;
  signer: CertificateSummary | null;
  seal: { id: string; name: string } | null;
  /** Present for a GB/T 38540 seal signature (an SES_Signature instead of CMS). */
  nationalSeal?: NationalSealReport;
  claimedSigningTime: string | null;
  timestampTime: string | null;
  /** The best proof of existence used for time checks. */
  proofOfExistence: string;
  byteRange: number[] | null;
  /** Which revision (0-based) the signature covers, and whether that is the whole file. */
  revision: number | null;
  coverage: 'entire-file' | 'entire-revision' | 'partial' | 'invalid';
  coversWholeFile: boolean;
  certification: { permission: 1 | 2 | 3 } | null;
  integrity: {
    byteRangeValid: boolean;
    messageDigestMatches: boolean | null;
    signatureValid: boolean | null;
    signingCertificateReference: 'matches' | 'mismatch' | 'absent';
    signedAttributesOrder: 'der' | 'as-sent';
  };
  algorithms: { digest: string | null; signature: string | null; weak: string[] };
  certificatePath: { status: string; trustAnchorReached: boolean; chain: CertificateSummary[] };
  revocation: RevocationEvidence;
  timestamps: TimestampReport[];
  changesAfterSigning: { permitted: boolean; changes: ChangeReport[] };
  indication: Indication;
  subIndication: SubIndication | null;
  /** The constraint of the validation policy that decided the indication, when one did. */
  failedConstraint: { constraint: string; detail: string } | null;
  conditions: StatutoryConditions;
  problems: string[];
}

export interface ValidationReport {
  validationTime: string;
  /** The name of the validation policy applied. */
  policy: string;
  document: {
    bytes: number;
    sha256: string;
    revisions: number;
    signatures: number;
    passed: number;
    /** True when bytes after the last signature's coverage are not covered by any signature. */
    unsignedChangesAtEnd: boolean;
    /**
     * How the file had to be read: `reconstructed` when its cross-reference data could not be
     * used and was rebuilt by scanning, `repaired` when some objects were not where the xref
     * said, `unreadableObjects` that could not be parsed anywhere (read as null), `encrypted`.
     */
    structure: { reconstructed: boolean; repaired: boolean; unreadableObjects: number[]; encrypted: boolean };
    summary: string;
  };
  signatures: SignatureReport[];
}
