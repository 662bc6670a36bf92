import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { isValidUscc } from '../codes/check-characters.js';
import { certificatePolicyOids, readCertFields } from '../pki/cert-fields.js';
import { NAME_OID, subjectAttributes } from '../pki/cert-subject.js';
import { derToPem } from '../pki/pem.js';
import { SealInputError, SealTypeNotAllowedError } from './errors.js';
import { sealImagePng } from './image-pipeline.js';
import { checkNationalSeal } from './national-seal.js';
import type { NewSeal, SealRecord } from './seal-record.js';
import { sealTypesAllowed, type SealTypePolicies } from './seal-type-policies.js';
import { SEAL_DIAMETER_MM, SEAL_PURPOSE, SEAL_TYPES, type SealType } from './seal-types.js';

/** A new seal checked against its certificate, with its image: ready to insert. */
export interface PreparedSeal {
  record: SealRecord;
  certTbsSha256: string;
}

/**
 * What identifies a certificate here: the SHA-256 of its signed part (tbsCertificate, as sent).
 * Every copy of one certificate that still verifies has the same signed part, however its outer
 * structure is encoded, so a re-encoded copy cannot pass for another certificate.
 */
export function certificateTbsSha256(certDer: Buffer): string {
  return createHash('sha256').update(readCertFields(certDer).tbs).digest('hex');
}

export function sealName(orgName: string, sealType: SealType): string {
  return sealType === 'official' ? orgName : `${orgName}${SEAL_PURPOSE[sealType]}`;
}

/** Checks a new seal against its certificate and draws its image: everything but the database. */
export function prepareSeal(input: NewSeal, sealTypePolicies: SealTypePolicies, trustAnchors: readonly Buffer[] = []): PreparedSeal {
  const id = input.id ?? randomUUID();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) throw new SealInputError('seal id: 1-64 letters, digits, _ . -', 'id');
  if (!input.orgName.trim() || input.orgName.length > 60) throw new SealInputError('organisation name: 1-60 characters', 'orgName');
  if (!isValidUscc(input.orgUscc)) throw new SealInputError('not a valid unified social credit code (check character)', 'orgUscc');
  if (!SEAL_TYPES.includes(input.sealType)) throw new SealInputError(`seal type must be one of ${SEAL_TYPES.join(', ')}`, 'sealType');
  const leaf = input.chainDer[0];
  if (!leaf) throw new SealInputError('a certificate chain is required', 'certificate');
  const national = input.sesSeal ? checkNationalSeal(input.sesSeal, leaf, trustAnchors) : undefined;
  if (national && input.imagePng) throw new SealInputError("a national e-seal shows its own picture: leave out image", 'image');
  const diameterMm = national?.diameterMm ?? input.diameterMm ?? SEAL_DIAMETER_MM[input.sealType];
  if (!(diameterMm >= 20 && diameterMm <= 60)) throw new SealInputError('diameter must be 20 to 60 mm', 'diameterMm');
  let certificate: X509Certificate;
  let certTbsSha256: string;
  try {
    certificate = new X509Certificate(leaf);
    certTbsSha256 = certificateTbsSha256(leaf);
  } catch {
    throw new SealInputError('the seal certificate cannot be parsed', 'certificate');
  }
  assertCertificateNamesOrganisation(leaf, input.orgName, input.orgUscc);
  assertPoliciesAllowSealType(leaf, input.sealType, sealTypePolicies);
  const imagePng = national?.imagePng ?? sealImagePng({ imagePng: input.imagePng, orgName: input.orgName, sealType: input.sealType, diameterMm });
  const record: SealRecord = {
    id,
    orgName: input.orgName,
    orgUscc: input.orgUscc,
    sealType: input.sealType,
    name: sealName(input.orgName, input.sealType),
    diameterMm,
    imagePng,
    chainPem: input.chainDer.map(derToPem),
    keyRef: input.keyRef,
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
    status: 'active',
    createdAt: new Date().toISOString(),
    sesSeal: national?.der ?? null,
  };
  return { record, certTbsSha256 };
}

/**
 * A seal speaks for the organisation its certificate names: the organisation (O) must be the
 * seal's organisation, and its unified social credit code (organizationIdentifier, possibly
 * with an ETSI semantics prefix such as NTRCN-, or serialNumber) must be the seal's USCC.
 * Otherwise a red seal could read one authority's name over another's signature.
 */
function assertCertificateNamesOrganisation(leafDer: Buffer, orgName: string, orgUscc: string): void {
  let subject: Map<string, string[]>;
  try {
    subject = subjectAttributes(leafDer);
  } catch {
    throw new SealInputError('the seal certificate cannot be parsed', 'certificate');
  }
  const organisations = subject.get(NAME_OID.organization) ?? [];
  if (!organisations.includes(orgName)) {
    throw new SealInputError(`the certificate is issued to ${organisations.length ? organisations.map((o) => `"${o}"`).join(', ') : 'no organisation'}, not to "${orgName}"`, 'orgName');
  }
  const codes = [...(subject.get(NAME_OID.organizationIdentifier) ?? []), ...(subject.get(NAME_OID.serialNumber) ?? [])].map((c) => c.replace(/^[A-Z]{3}[A-Z]{2}-/, ''));
  if (!codes.includes(orgUscc)) {
    throw new SealInputError(`the certificate names ${codes.length ? `the code ${codes.join(', ')}` : 'no unified social credit code'}, not ${orgUscc}`, 'orgUscc');
  }
}

/** The CA says what a certificate is for: its policies, through the configured mapping, must allow the seal type. */
function assertPoliciesAllowSealType(leafDer: Buffer, sealType: SealType, sealTypePolicies: SealTypePolicies): void {
  let policies: string[] | null;
  try {
    policies = certificatePolicyOids(readCertFields(leafDer));
  } catch {
    throw new SealInputError("the seal certificate's policies cannot be read", 'certificate');
  }
  const allowed = sealTypesAllowed(sealTypePolicies, policies);
  if (!allowed.includes(sealType)) throw new SealTypeNotAllowedError(sealType, policies, allowed);
}
