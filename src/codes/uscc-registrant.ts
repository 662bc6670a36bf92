/**
 * What the first two characters of a unified social credit code say about its holder
 * (GB 32100-2015, 5.2 and 5.3): position 1 is the registration-authority code (登记管理部门代码),
 * position 2 the category of organisation (机构类别代码) under that authority.
 */

/** Registration-authority codes: 1 机构编制 (establishment offices), 5 民政 (civil affairs), 9 工商/市场监管 (market regulation), ... */
export const MARKET_REGULATION = '9';

/**
 * Government organs (机关): registered by the establishment offices (1), category 1. Category 2
 * under the same authority is public institutions (事业单位), 3 mass organisations, 9 others.
 */
export function isGovernmentOrganUscc(code: string): boolean {
  return code.startsWith('11');
}
