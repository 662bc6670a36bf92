/** The kinds of seal a department holds, what each says under the star, and its size. */

export const SEAL_TYPES = ['official', 'approval', 'business', 'contract', 'finance'] as const;
export type SealType = (typeof SEAL_TYPES)[number];

/** The purpose written under the star; the official seal (公章) has none. */
export const SEAL_PURPOSE: Record<SealType, string | undefined> = {
  official: undefined,
  approval: '审批专用章',
  business: '业务专用章',
  contract: '合同专用章',
  finance: '财务专用章',
};

/**
 * Default diameters in millimetres. The 1999 State Council rules give city and county
 * governments 45 mm and their departments about 42 mm; special-purpose seals are 40 to 42 mm
 * and must differ from the official seal, so a department's special seals are 40 mm here,
 * visibly smaller than its 42 mm official seal.
 */
export const SEAL_DIAMETER_MM: Record<SealType, number> = {
  official: 42,
  approval: 40,
  business: 40,
  contract: 40,
  finance: 40,
};
