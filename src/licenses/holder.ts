import { isValidCitizenId, isValidUscc } from '../codes/check-characters.js';
import { isGovernmentOrganUscc, MARKET_REGULATION } from '../codes/uscc-registrant.js';
import { unprintableCharacter } from './printable.js';
import type { LicenseType } from './types.js';
import type { FieldProblem } from './validate.js';

/** GB/T 36903 持证主体代码类型: 001 unified social credit code (GB 32100), 111 citizen identity number (GB 11643). */
export type HolderCodeType = '001' | '111';

export const HOLDER_CODE_TYPES: readonly HolderCodeType[] = ['001', '111'];

const CODE_TYPE_NAMES: Record<HolderCodeType, string> = { '001': 'a unified social credit code (GB 32100)', '111': 'a citizen identity number (GB 11643)' };

function usccProblem(type: LicenseType, code: string): string | null {
  if (!isValidUscc(code)) return `must be ${CODE_TYPE_NAMES['001']} with a valid check character`;
  const allowed = type.holder.usccRegistrationAuthorities;
  if (allowed && !allowed.includes(code[0]!)) {
    if (isGovernmentOrganUscc(code)) return `is the code of a government organ (GB 32100: registration authority 1, category 1); a ${type.name} is not issued to organs`;
    const byMarketRegulation = allowed.length === 1 && allowed[0] === MARKET_REGULATION;
    return byMarketRegulation
      ? `must be registered by market regulation (GB 32100 registration-authority code 9) for a ${type.name}`
      : `must have a GB 32100 registration-authority code of ${allowed.join(', ')} for a ${type.name}`;
  }
  return null;
}

function citizenIdProblem(code: string, today: string): string | null {
  if (!isValidCitizenId(code)) return `must be ${CODE_TYPE_NAMES['111']} with a valid date of birth and check character`;
  const born = `${code.slice(6, 10)}-${code.slice(10, 12)}-${code.slice(12, 14)}`;
  return born > today ? 'carries a date of birth in the future' : null;
}

/** The holder's name, code and code type; the code is checked as the type the request names. */
export function holderProblems(type: LicenseType, holder: { name: unknown; code: unknown; codeType: unknown } | undefined, today: string, canDraw?: (cp: number) => boolean): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { name, code, codeType } = holder ?? { name: undefined, code: undefined, codeType: undefined };
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) problems.push({ field: 'holder.name', message: 'must be 1 to 100 characters' });
  else {
    const unprintable = unprintableCharacter(name, false, canDraw);
    if (unprintable) problems.push({ field: 'holder.name', message: unprintable });
  }
  if (codeType !== '001' && codeType !== '111') {
    problems.push({ field: 'holder.codeType', message: 'must be 001 (unified social credit code) or 111 (citizen identity number)' });
    if (typeof code !== 'string' || code === '') problems.push({ field: 'holder.code', message: 'is required' });
    return problems;
  }
  if (type.holder.codeType !== 'any' && type.holder.codeType !== codeType) {
    problems.push({ field: 'holder.codeType', message: `a ${type.name} is issued to holders identified by ${CODE_TYPE_NAMES[type.holder.codeType]}: ${type.holder.codeType}` });
    return problems;
  }
  const problem = typeof code !== 'string' ? `must be ${CODE_TYPE_NAMES[codeType]}` : codeType === '001' ? usccProblem(type, code) : citizenIdProblem(code, today);
  if (problem) problems.push({ field: 'holder.code', message: problem });
  return problems;
}
