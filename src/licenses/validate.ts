import { isValidCitizenId, isValidUscc } from '../codes/check-characters.js';
import type { LicenseField, LicenseType } from './types.js';

export interface FieldProblem {
  field: string;
  message: string;
}

export interface LicenseRequest {
  holder: { name: unknown; code: unknown };
  fields: Record<string, unknown>;
}

function isDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function checkField(field: LicenseField, value: unknown): string | null {
  switch (field.type) {
    case 'text':
      if (typeof value !== 'string' || value.trim() === '') return 'must be non-empty text';
      return value.length > field.maxLength ? `must be at most ${field.maxLength} characters` : null;
    case 'date':
      return typeof value === 'string' && isDate(value) ? null : 'must be a date as YYYY-MM-DD';
    case 'enum':
      return typeof value === 'string' && field.values.includes(value) ? null : `must be one of: ${field.values.join('、')}`;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && value >= field.min && value <= field.max ? null : `must be a whole number from ${field.min} to ${field.max}`;
    case 'list':
      if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty list';
      if (value.length > field.maxItems) return `must have at most ${field.maxItems} items`;
      return value.every((item) => typeof item === 'string' && item.trim() !== '' && item.length <= field.maxLength) ? null : `every item must be text of at most ${field.maxLength} characters`;
    case 'uscc':
      return typeof value === 'string' && isValidUscc(value) ? null : 'must be a valid unified social credit code (check character)';
    case 'citizen-id':
      return typeof value === 'string' && isValidCitizenId(value) ? null : 'must be a valid citizen identity number (check character)';
  }
}

/** Checks a request against its license type; every failing field is named, in one list. */
export function validateLicenseRequest(type: LicenseType, request: LicenseRequest): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { name, code } = request.holder ?? { name: undefined, code: undefined };
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) problems.push({ field: 'holder.name', message: 'must be 1 to 100 characters' });
  const codeOk =
    typeof code === 'string' &&
    (type.holder.codeType === '001' ? isValidUscc(code) : type.holder.codeType === '111' ? isValidCitizenId(code) : isValidUscc(code) || isValidCitizenId(code));
  if (!codeOk) {
    const expected = { '001': 'a unified social credit code', '111': 'a citizen identity number', any: 'a unified social credit code or a citizen identity number' }[type.holder.codeType];
    problems.push({ field: 'holder.code', message: `must be ${expected} with a valid check character` });
  }
  const fields = request.fields ?? {};
  for (const field of type.fields) {
    const value = fields[field.key];
    if (value === undefined || value === null || value === '') {
      if (field.required) problems.push({ field: `fields.${field.key}`, message: `${field.label} is required` });
      continue;
    }
    const problem = checkField(field, value);
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
