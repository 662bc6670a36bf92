import type { SealType } from '../seals/seal-types.js';

/**
 * The certificate policies the development CA writes into seal certificates, one per seal type.
 * The arc is a UUID OID (2.25, ITU-T X.667), which needs no registration and collides with no
 * one else's; `policies/seal-types.json`, the built-in mapping, gives each its seal type.
 */
export const DEV_SEAL_POLICY_ARC = '2.25.165528999239677729779382136758133780420.1';

export const DEV_SEAL_TYPE_POLICY: Record<SealType, string> = {
  official: `${DEV_SEAL_POLICY_ARC}.1`,
  approval: `${DEV_SEAL_POLICY_ARC}.2`,
  business: `${DEV_SEAL_POLICY_ARC}.3`,
  contract: `${DEV_SEAL_POLICY_ARC}.4`,
  finance: `${DEV_SEAL_POLICY_ARC}.5`,
};
