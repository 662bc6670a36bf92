/**
 * A signature's report before its facts are gathered: the engine (PDF signatures) and
 * ses-detached.ts (a GB/T 38540 signature outside PDF) start from it, so both say the same
 * things the same way.
 */
import type { PathCertificate } from '../pki/path-validate.js';
import type { CertificateSummary, SignatureReport, StatutoryConditions } from './report.js';

const iso = (d: Date): string => (Number.isNaN(d.getTime()) ? 'unreadable' : d.toISOString());

export function certificateSummary(cert: PathCertificate): CertificateSummary {
  return { subject: cert.subject, issuer: cert.issuer, serialNumber: cert.serialHex, notBefore: iso(cert.notBefore), notAfter: iso(cert.notAfter) };
}

/** What is known of a signature before it is checked: where it is and what it covers. */
export type SignatureLocation = Pick<SignatureReport, 'fieldName' | 'kind' | 'subFilter' | 'claimedSigningTime' | 'proofOfExistence' | 'byteRange' | 'revision' | 'coverage' | 'problems'> & {
  byteRangeValid: boolean;
};

/** The report of a signature whose facts are still to be gathered: INDETERMINATE, nothing checked. */
export function startReport({ byteRangeValid, ...location }: SignatureLocation): SignatureReport {
  return {
    ...location,
    signer: null,
    seal: null,
    timestampTime: null,
    coversWholeFile: location.coverage === 'entire-file',
    certification: null,
    integrity: { byteRangeValid, messageDigestMatches: null, signatureValid: null, signingCertificateReference: 'absent', signedAttributesOrder: 'der' },
    algorithms: { digest: null, signature: null, weak: [] },
    certificatePath: { status: 'NOT_CHECKED', trustAnchorReached: false, chain: [] },
    revocation: { checked: false, detail: 'not checked' },
    timestamps: [],
    changesAfterSigning: { permitted: true, changes: [] },
    indication: 'INDETERMINATE',
    subIndication: null,
    failedConstraint: null,
    // set once the verdict is known
    conditions: undefined as unknown as StatutoryConditions,
  };
}
