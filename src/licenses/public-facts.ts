import { chineseDate } from '../calendar/dates.js';
import type { LicenseRecord } from './issuance.js';
import type { LicenseType } from './types.js';

/** One line of what the public may see of a licence. */
export interface PublicFact {
  label: string;
  value: string;
  /** Whether `value` is masked personal data. */
  masked: boolean;
}

/**
 * Fields whose values a legal person's registration makes public (the national enterprise credit
 * publicity system shows them): shown in full. Fields not named here or below are not shown at all,
 * so a field added to a type stays off the public page until someone decides it is public.
 */
const PUBLIC_REGISTRATION_FIELDS: ReadonlySet<string> = new Set(['companyType', 'registeredCapital', 'establishedOn', 'operatingUntil', 'domicile', 'businessScope', 'premises', 'mainBusiness', 'businessItems']);

/** Fields that name a natural person (the legal representative, the person in charge): masked. */
const PERSON_NAME_FIELDS: ReadonlySet<string> = new Set(['legalRepresentative']);

/** 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return name;
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/** 11010519491231002X → 1101**********002X; codes keep their first and last four characters. */
export function maskCode(code: string): string {
  if (code.length <= 8) return `${code.slice(0, 1)}${'*'.repeat(Math.max(0, code.length - 2))}${code.slice(-1)}`;
  return `${code.slice(0, 4)}${'*'.repeat(code.length - 8)}${code.slice(-4)}`;
}

/** A holder identified by a unified social credit code is a legal person or other organisation, not a natural person. */
export function isLegalPersonHolder(record: LicenseRecord): boolean {
  return record.holderCodeType === '001';
}

/** The holder's name and code as the public may see them: in full for legal persons, masked for natural persons. */
export function publicHolder(record: LicenseRecord): { name: string; code: string; masked: boolean } {
  if (isLegalPersonHolder(record)) return { name: record.holderName, code: record.holderCode, masked: false };
  return { name: maskName(record.holderName), code: maskCode(record.holderCode), masked: true };
}

function fieldText(field: LicenseType['fields'][number], value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (field.type === 'date' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return chineseDate(value);
  if (Array.isArray(value)) return value.map(String).join('；');
  return String(value);
}

/**
 * The type-specific facts of a licence the public page shows: a legal person's public registration
 * facts in full, natural persons' names masked; for a natural person holder, none (their licences
 * and notices are about them).
 */
export function publicFieldFacts(record: LicenseRecord, type: LicenseType | undefined): PublicFact[] {
  if (!type || !isLegalPersonHolder(record)) return [];
  const facts: PublicFact[] = [];
  for (const field of type.fields) {
    const text = fieldText(field, record.fields[field.key]);
    if (text === undefined) continue;
    if (PUBLIC_REGISTRATION_FIELDS.has(field.key)) facts.push({ label: field.label, value: text, masked: false });
    else if (PERSON_NAME_FIELDS.has(field.key)) facts.push({ label: field.label, value: maskName(text), masked: true });
  }
  return facts;
}

/** What the public JSON answer says of a licence: its public facts and dates, never a revocation reason. */
export interface PublicLicenseSummary {
  id: string;
  name: string;
  number: string;
  version: string;
  status: LicenseRecord['status'];
  issuer: string;
  holder: string;
  holderCode: string;
  issuedOn: string;
  validFrom: string | null;
  validUntil: string | null;
  /** The instant of revocation, when revoked (the reason stays with the issuing office). */
  revokedAt: string | null;
}

export function publicLicenseSummary(record: LicenseRecord): PublicLicenseSummary {
  const holder = publicHolder(record);
  return {
    id: record.id,
    name: record.name,
    number: record.number,
    version: record.version,
    status: record.status,
    issuer: record.issuerName,
    holder: holder.name,
    holderCode: holder.code,
    issuedOn: record.issuedOn,
    validFrom: record.validFrom,
    validUntil: record.validUntil,
    revokedAt: record.status === 'revoked' ? record.revokedAt : null,
  };
}
