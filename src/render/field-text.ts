import { chineseDate } from '../calendar/dates.js';
import type { LicenseField } from '../licenses/types.js';

/** A field's value as printed: dates in the Chinese form, list items numbered one per line. */
export function fieldText(field: LicenseField, value: unknown): string {
  if (Array.isArray(value)) return value.map((item, i) => `${i + 1}. ${String(item)}`).join('\n');
  if (field.type === 'date' && typeof value === 'string') return chineseDate(value);
  return value === undefined || value === null ? '' : String(value);
}

/** The validity as printed: 2026年3月1日 至 2031年2月28日, or 至 长期 without an end. */
export function validityText(validFrom: string | undefined, validUntil: string | undefined): string {
  return `${validFrom ? chineseDate(validFrom) : ''} 至 ${validUntil ? chineseDate(validUntil) : '长期'}`;
}
