import { isValidCitizenId, isValidUscc } from '../codes/check-characters.js';
import { holderProblems } from './holder.js';
import { unprintableCharacter } from './printable.js';
import type { LicenseField, LicenseType } from './types.js';

export interface FieldProblem {
  field: string;
  message: string;
}

export interface LicenseRequest {
  /** codeType: GB/T 36903 持证主体代码类型, `001` or `111`, stated by the caller and checked. */
  holder: { name: unknown; code: unknown; codeType: unknown };
  fields: Record<string, unknown>;
}

/** What plausibility is judged against: the date of issue, in the issuing offices' time zone. */
export interface ValidationContext {
  today: string;
  /** Whether an embedded font draws the code point: text is refused where none does (issuance always gives it). */
  canDraw?: (cp: number) => boolean;
}

function isDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function checkDate(field: Extract<LicenseField, { type: 'date' }>, value: unknown, today: string): string | null {
  if (typeof value !== 'string' || !isDate(value)) return 'must be a date as YYYY-MM-DD';
  if (field.when === 'past' && value > today) return `must not be after the date of issue (${today}): it records what has happened`;
  if (field.when === 'deadline' && value < today) return `must not be before the date of issue (${today}): the deadline would have passed`;
  return null;
}

function checkField(field: LicenseField, value: unknown, context: ValidationContext): string | null {
  switch (field.type) {
    case 'text':
      if (typeof value !== 'string' || value.trim() === '') return 'must be non-empty text';
      if (value.length > field.maxLength) return `must be at most ${field.maxLength} characters`;
      return unprintableCharacter(value, field.multiline ?? false, context.canDraw);
    case 'date':
      return checkDate(field, value, context.today);
    case 'enum':
      return typeof value === 'string' && field.values.includes(value) ? null : `must be one of: ${field.values.join('、')}`;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && value >= field.min && value <= field.max ? null : `must be a whole number from ${field.min} to ${field.max}`;
    case 'list': {
      if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty list';
      if (value.length > field.maxItems) return `must have at most ${field.maxItems} items`;
      if (!value.every((item) => typeof item === 'string' && item.trim() !== '' && item.length <= field.maxLength)) return `every item must be text of at most ${field.maxLength} characters`;
      const index = value.findIndex((item) => unprintableCharacter(item as string, false, context.canDraw) !== null);
      return index < 0 ? null : `item ${index + 1} ${unprintableCharacter(value[index] as string, false, context.canDraw)}`;
    }
    case 'uscc':
      return typeof value === 'string' && isValidUscc(value) ? null : 'must be a valid unified social credit code (check character)';
    case 'citizen-id':
      return typeof value === 'string' && isValidCitizenId(value) ? null : 'must be a valid citizen identity number (check character)';
  }
}

/** Checks a request against its license type; every failing field is named, in one list. */
export function validateLicenseRequest(type: LicenseType, request: LicenseRequest, context: ValidationContext): FieldProblem[] {
  const problems = holderProblems(type, request.holder, context.today, context.canDraw);
  const fields = request.fields ?? {};
  for (const field of type.fields) {
    const value = fields[field.key];
    if (value === undefined || value === null || value === '') {
      if (field.required) problems.push({ field: `fields.${field.key}`, message: `${field.label} is required` });
      continue;
    }
    const problem = checkField(field, value, context);
    if (problem) problems.push({ field: `fields.${field.key}`, message: `${field.label} ${problem}` });
  }
  for (const key of Object.keys(fields)) {
    if (!type.fields.some((f) => f.key === key)) problems.push({ field: `fields.${key}`, message: 'is not a field of this license type' });
  }
  if (type.validity.kind === 'field' && problems.length === 0) {
    const from = fields[type.validity.from];
    const until = fields[type.validity.until];
    if (typeof from === 'string' && typeof until === 'string' && until < from) problems.push({ field: `fields.${type.validity.until}`, message: 'must not be before the start of validity' });
  }
  return problems;
}
