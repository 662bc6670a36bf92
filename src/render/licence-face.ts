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
  const validity: Row | undefined =
    content.validFrom || content.validUntil ? { label: type.layout.validityLabel, value: validityText(content.validFrom, content.validUntil), ...(validityEnd ? { field: `fields.${validityEnd}` } : {}) } : undefined;
  const rows: Row[] = [
    { label: type.holder.nameLabel, value: content.holderName, field: 'holder.name' },
    { label: type.holder.codeLabel, value: content.holderCode, field: 'holder.code' },
  ];
  for (const field of type.fields) {
    // the validity row stands where the field of its end would
    if (field.key === validityEnd) {
      if (validity) rows.push(validity);
      continue;
    }
    const value = content.fields[field.key];
    if (value === undefined || value === null || value === '') continue;
    rows.push({ label: field.label, value: fieldText(field, value), field: `fields.${field.key}` });
  }
  if (validity && !validityEnd) rows.push(validity);
  return rows;
}

/** Labelled rows in one column: labels as wide as the widest, values wrapped beside them. */
function composeColumn(fonts: FontSet, rows: Row[], size: number, column: Column): FlowLine[] {
  const labelWidth = Math.max(...rows.map((r) => fonts.width(`${r.label}：`, size))) + size * 0.5;
  return rows.flatMap((r) => row(fonts, `${r.label}：`, r.value, { ...column, labelWidth, size, spaceBefore: size * 0.5, ...(r.field ? { field: r.field } : {}) }));
}

/** Two columns side by side, line by line: each composed line carries both columns' text at one baseline. */
function besideEachOther(left: FlowLine[], right: FlowLine[]): FlowLine[] {
  return Array.from({ length: Math.max(left.length, right.length) }, (_, i) => {
    const [l, r] = [left[i], right[i]];
    if (!l || !r) return (l ?? r)!;
    const field = l.field ?? r.field;
    return { segments: [...l.segments, ...r.segments], size: l.size, height: Math.max(l.height, r.height), spaceBefore: Math.max(l.spaceBefore, r.spaceBefore), ...(field ? { field } : {}) };
  });
}

/** The gap between the two columns of a two-column face. */
const GUTTER = 24;

/** Where the right-hand column of a two-column face starts, from the page's left edge. */
export function rightColumnX(column: Column): number {
  return column.x + (column.width + GUTTER) / 2;
}

/**
 * The rows of a licence face: one column, or two when the type names the fields of the right one
 * (the 营业执照: 名称, 类型, 法定代表人, 经营范围 on the left; 注册资本, 成立日期, 营业期限, 住所 on the right).
 */
export function composeLicenceFace(fonts: FontSet, content: LicenseContent, size: number, column: Column): FlowLine[] {
  const rows = rowsOf(content);
  const right = new Set((content.type.layout.rightColumn ?? []).map((key) => `fields.${key}`));
  if (right.size === 0) return composeColumn(fonts, rows, size, column);
  const half = (column.width - GUTTER) / 2;
  const onRight = (r: Row): boolean => r.field !== undefined && right.has(r.field);
  return besideEachOther(
    composeColumn(fonts, rows.filter((r) => !onRight(r)), size, { x: column.x, width: half }),
    composeColumn(fonts, rows.filter(onRight), size, { x: rightColumnX(column), width: half }),
  );
}
