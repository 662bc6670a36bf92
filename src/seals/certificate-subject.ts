import { SEAL_PURPOSE, type SealType } from './image.js';

/**
 * The subject a seal certificate is requested with: country, organisation, the organisation's
 * unified social credit code (organizationIdentifier) and the seal's engraved name as CN.
 */
export function sealCertificateSubject(seal: { orgName: string; orgUscc: string; sealType: SealType }): Array<[string, string]> {
  return [
    ['C', 'CN'],
    ['O', seal.orgName],
    ['organizationIdentifier', seal.orgUscc],
    ['CN', `${seal.orgName}${SEAL_PURPOSE[seal.sealType] ?? ''}`],
  ];
}
