import type { PathResult } from '../pki/path-validate.js';
import type { SignerVerification } from '../pki/signed-data.js';
import type { SignatureReport, StatutoryConditions } from './report.js';

/** The four conditions of a reliable electronic signature (art. 13 of the Electronic Signature Law), from the report's facts. */
export function conditionsFor(report: SignatureReport, verification: SignerVerification | undefined, path: PathResult | undefined): StatutoryConditions {
  const trusted = path?.trustAnchorReached === true && path.status !== 'CHAIN_CONSTRAINTS_FAILURE';
  const revoked = report.revocation.checked && report.revocation.status === 'revoked';
  const revocationKnown = report.revocation.checked && report.revocation.status === 'good';
  // A national seal's own checks bind the signer's key to the seal: a forged seal, or a key the seal does not name, breaks that bond.
  const sealBroken = report.nationalSeal?.checks.find((c) => !c.passed && (c.name === 'seal-maker-signature' || c.name === 'seal-certificate-listed'));
  const exclusive: StatutoryConditions['creationDataExclusiveToSigner'] = !verification || !report.signer
    ? { status: 'unknown', reason: 'no signer certificate could be identified' }
    : sealBroken
      ? { status: 'not met', reason: `the national seal fails its ${sealBroken.name} check: ${sealBroken.detail}` }
    : !trusted
      ? { status: 'unknown', reason: 'the signer certificate does not chain to a trusted CA, so nothing vouches that the key belongs to the signer' }
      : revoked
        ? { status: 'not met', reason: 'the signer certificate was revoked before the signature existed' }
        : revocationKnown
          ? { status: 'met', reason: `a trusted CA certified the key to "${report.signer.subject}" and the certificate is not revoked` }
          : { status: 'unknown', reason: `a trusted CA certified the key to "${report.signer.subject}", but its revocation status is not known` };
  const soleControl: StatutoryConditions['creationDataUnderSoleControl'] = report.seal
    ? { status: revoked ? 'not met' : 'met', reason: `the key of seal "${report.seal.name}" is held by this service's signer backend and used only for the clients allowed to apply it` }
    : trusted && revocationKnown
      ? { status: 'met', reason: 'presumed under the certificate policy of the trusted CA (the key is certified for this signer only and not revoked)' }
      : { status: 'unknown', reason: 'sole control cannot be established from the file without a trusted, unrevoked certificate' };
  const sigAlteration: StatutoryConditions['signatureAlterationDetectable'] = !verification
    ? { status: 'not met', reason: 'the signature cannot be decoded' }
    : verification.signatureValid !== true
      ? { status: 'not met', reason: 'the signature value does not verify: the signature was altered or is broken' }
      : report.integrity.signingCertificateReference === 'mismatch'
        ? { status: 'not met', reason: 'the signed reference to the signing certificate does not match the certificate' }
        : { status: 'met', reason: 'the signature value verifies over the signed attributes, which bind the signer certificate and the document digest' };
  const docAlteration: StatutoryConditions['documentAlterationDetectable'] = !report.integrity.byteRangeValid || report.coverage === 'partial'
    ? { status: 'not met', reason: 'the signed byte ranges leave part of the signed revision uncovered' }
    : report.integrity.messageDigestMatches !== true
      ? { status: 'not met', reason: 'the document digest does not match: the signed content was altered' }
      : report.changesAfterSigning.permitted
        ? { status: 'met', reason: report.coversWholeFile ? 'the signature covers the whole file and its digest matches' : 'the signed revision is intact; every later change was detected and is of a permitted kind' }
        : { status: 'met', reason: 'the signed revision is intact and the changes made after signing were detected (and are not permitted: see changesAfterSigning)' };
  return {
    creationDataExclusiveToSigner: exclusive,
    creationDataUnderSoleControl: soleControl,
    signatureAlterationDetectable: sigAlteration,
    documentAlterationDetectable: docAlteration,
  };
}
