/**
 * The development PKI as a seal maker (制章者): it makes GB/T 38540 seals (SESeal, version 4)
 * for the sample SM2 seals, as the national unified e-seal system does for real departments,
 * with the seal's drawn picture, listing the seal's certificate, signed by the maker's SM2 key.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeSesSeal } from '../pki/ses/ses-build.js';
import { parseSesSeal } from '../pki/ses/ses-parse.js';
import { sealListsCertificate } from '../pki/ses/ses-verify.js';
import { renderSealPng } from '../seals/image.js';
import { SEAL_DIAMETER_MM, SEAL_PURPOSE, type SealType } from '../seals/seal-types.js';
import { sm2SignerOf } from './issuer-signature.js';
import type { Issued } from './issue.js';

/** The seal type numbers the development maker writes (GB/T 38540 leaves the numbering to the issuing system). */
const SES_TYPE_NUMBER: Record<SealType, number> = { official: 1, finance: 2, contract: 4, approval: 5, business: 6 };

const DAY = 24 * 3600 * 1000;

export interface DevSesSealSpec {
  id: string;
  orgName: string;
  uscc: string;
  sealType: SealType;
  certDer: Buffer;
}

/**
 * The seal's SESeal file, made again when missing, when it no longer lists the seal's current
 * certificate, or when it expires within a month.
 */
export async function ensureDevSesSeal(file: string, spec: DevSesSealSpec, maker: Issued): Promise<Buffer> {
  if (existsSync(file)) {
    try {
      const existing = parseSesSeal(readFileSync(file));
      if (sealListsCertificate(existing, spec.certDer) && existing.info.validTo.getTime() > Date.now() + 30 * DAY) return existing.der;
    } catch {
      // unreadable: made again
    }
  }
  const signer = sm2SignerOf(maker.privateKey);
  if (!signer) throw new Error('the development seal maker holds no SM2 key');
  const now = new Date();
  const diameterMm = SEAL_DIAMETER_MM[spec.sealType];
  const name = spec.sealType === 'official' ? spec.orgName : `${spec.orgName}${SEAL_PURPOSE[spec.sealType]}`;
  const der = await makeSesSeal(
    {
      layout: 4,
      vendorId: 'ESEAL-DEV',
      // 统一社会信用代码 of the department and the seal's registration number in it
      esId: `${spec.uscc}${String(SES_TYPE_NUMBER[spec.sealType]).padStart(2, '0')}`,
      type: SES_TYPE_NUMBER[spec.sealType],
      name,
      certList: { kind: 'certificates', certificates: [spec.certDer] },
      createdAt: now,
      validFrom: new Date(now.getTime() - DAY),
      validTo: new Date(now.getTime() + 5 * 365 * DAY),
      picture: { format: 'PNG', data: renderSealPng({ orgName: spec.orgName, purpose: SEAL_PURPOSE[spec.sealType], diameterMm }), widthMm: diameterMm, heightMm: diameterMm },
    },
    { certificate: maker.certDer, signer },
  );
  writeFileSync(file, der);
  return der;
}
