import { SEAL_PURPOSE, type SealType } from './seal-types.js';

/**
 * The subject of a seal certificate: country, organisation, the organisation's unified social
 * credit code (organizationIdentifier, 2.5.4.97) and the seal's engraved name (organisation
 * plus purpose) as CN. `purpose` is empty for an official seal.
 */
export function certificateSubject(orgName: string, orgUscc: string, purpose: string): Array<[string, string]> {
  return [
    ['C', 'CN'],
    ['O', orgName],
    ['2.5.4.97', orgUscc],
    ['CN', `${orgName}${purpose}`],
  ];
}

/** The subject a seal of this type is certified under. */
export function sealCertificateSubject(seal: { orgName: string; orgUscc: string; sealType: SealType }): Array<[string, string]> {
  return certificateSubject(seal.orgName, seal.orgUscc, SEAL_PURPOSE[seal.sealType] ?? '');
}
