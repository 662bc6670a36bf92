import { row } from './compose.js';
import type { LicenseContent } from './document-content.js';
import { fieldText, validityText } from './field-text.js';
import type { FlowLine } from './flow.js';
import type { FontSet } from './font-set.js';
import type { Column } from './letter.js';

interface Row {
  label: string;
  value: string;
  field?: string;
}

/**
 * The rows of a licence face in the type's field order: the holder, every field given, and the
 * validity (营业期限, 有效期), which also carries a validity end field.
 */
function rowsOf(content: LicenseContent): Row[] {
  const { type } = content;
  const validityEnd = type.validity.kind === 'field' ? type.validity.until : undefined;
  const rows: Row[] = [
    { label: type.holder.nameLabel, value: content.holderName, field: 'holder.name' },
    { label: type.holder.codeLabel, value: content.holderCode, field: 'holder.code' },
  ];
  for (const field of type.fields) {
    const value = content.fields[field.key];
    if (value === undefined || value === null || value === '' || field.key === validityEnd) continue;
    rows.push({ label: field.label, value: fieldText(field, value), field: `fields.${field.key}` });
  }
  if (content.validFrom || content.validUntil) {
    rows.push({ label: type.layout.validityLabel, value: validityText(content.validFrom, content.validUntil), ...(validityEnd ? { field: `fields.${validityEnd}` } : {}) });
  }
  return rows;
}

/** Labelled rows: labels in a column as wide as the widest, values wrapped beside them. */
export function composeLicenceFace(fonts: FontSet, content: LicenseContent, size: number, column: Column): FlowLine[] {
  const rows = rowsOf(content);
  const labelWidth = Math.max(...rows.map((r) => fonts.width(`${r.label}：`, size))) + size * 0.5;
  return rows.flatMap((r) => row(fonts, `${r.label}：`, r.value, { ...column, labelWidth, size, spaceBefore: size * 0.5, ...(r.field ? { field: r.field } : {}) }));
}
