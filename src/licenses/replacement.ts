import { lastDayOfTerm } from '../calendar/dates.js';
import { unprintableCharacter } from './printable.js';
import type { LicenseType } from './types.js';
import type { FieldProblem, LicenseRequest } from './validate.js';

/** What a replacement may change, and why it is made. */
export interface ReplacementChanges {
  /** Required: recorded with the new version and in its audit entry. */
  reason: unknown;
  /** The same holder (code and code type); only the name may change (a renamed company). */
  holder?: LicenseRequest['holder'];
  /** The complete fields of the new version; the old ones when absent. */
  fields?: Record<string, unknown>;
  /** A new term, for types whose validity runs a number of years from issue; the old term is kept otherwise. */
  validity?: { from: unknown; until: unknown };
}

/** The licence being replaced, as far as a replacement depends on it. */
export interface ReplacedLicense {
  holderCode: string;
  holderCodeType: string;
  validFrom: string | null;
  validUntil: string | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (value: unknown): value is string => typeof value === 'string' && DATE.test(value) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);

/** Problems of a replacement beyond those of its request: reason, holder, term. Every one named. */
export function replacementProblems(type: LicenseType, old: ReplacedLicense, changes: ReplacementChanges, today: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { reason, holder, validity } = changes;
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500) problems.push({ field: 'reason', message: 'must state why the licence is replaced (1 to 500 characters)' });
  else {
    const unprintable = unprintableCharacter(reason, false);
    if (unprintable) problems.push({ field: 'reason', message: unprintable });
  }
  if (holder && (holder.code !== old.holderCode || holder.codeType !== old.holderCodeType)) {
    problems.push({ field: 'holder.code', message: `a replacement keeps the holder (${old.holderCodeType} ${old.holderCode}); issue a new licence for another holder` });
  }
  if (validity) {
    if (type.validity.kind !== 'years') {
      const where = type.validity.kind === 'field' ? `is given by its fields ${type.validity.from} and ${type.validity.until}` : 'does not exist: it has no validity';
      problems.push({ field: 'validity', message: `the term of a ${type.name} ${where}` });
    } else if (!isDate(validity.from) || !isDate(validity.until)) {
      problems.push({ field: 'validity', message: 'from and until must be dates as YYYY-MM-DD' });
    } else if (validity.until < validity.from || validity.until < today) {
      problems.push({ field: 'validity.until', message: `must not be before the start of the term nor before the date of issue (${today})` });
    } else if (validity.until > lastDayOfTerm(validity.from, type.validity.years)) {
      problems.push({ field: 'validity.until', message: `a ${type.name} is valid for at most ${type.validity.years} years: until ${lastDayOfTerm(validity.from, type.validity.years)}` });
    }
  }
  return problems;
}

/** The term of the new version: the new one given, else the old one kept (for types whose term is in their fields, from the fields). */
export function replacementTerm(type: LicenseType, old: ReplacedLicense, changes: ReplacementChanges): { validFrom: string | null; validUntil: string | null } | undefined {
  if (type.validity.kind !== 'years') return undefined;
  if (changes.validity) return { validFrom: String(changes.validity.from), validUntil: String(changes.validity.until) };
  return { validFrom: old.validFrom, validUntil: old.validUntil };
}
