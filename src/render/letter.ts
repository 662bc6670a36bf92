import { paragraph, row } from './compose.js';
import type { LicenseContent } from './document-content.js';
import { fieldText } from './field-text.js';
import type { FlowLine } from './flow.js';
import type { FontSet } from './font-set.js';
import { fillPlaceholders, placeholders } from './placeholders.js';

export interface Column {
  x: number;
  width: number;
}

/** The printed value of a placeholder, and the request field it comes from; undefined when the field is absent. */
function valueOf(content: LicenseContent, key: string): { text: string; field: string } | undefined {
  if (key === 'holder.name') return { text: content.holderName, field: 'holder.name' };
  if (key === 'holder.code') return { text: content.holderCode, field: 'holder.code' };
  const field = content.type.fields.find((f) => f.key === key);
  const value = content.fields[key];
  if (!field || value === undefined || value === null || value === '') return undefined;
  return { text: Array.isArray(value) ? value.map(String).join('、') : fieldText(field, value), field: `fields.${key}` };
}

/** A paragraph with its placeholders filled in, attributed to its longest value; null when a value is absent. */
function fill(content: LicenseContent, template: string): { text: string; field?: string } | null {
  let longest: { text: string; field: string } | undefined;
  for (const key of placeholders(template)) {
    const value = valueOf(content, key);
    if (!value) return null;
    if (!longest || value.text.length > longest.text.length) longest = value;
  }
  const text = fillPlaceholders(template, (key) => valueOf(content, key)!.text);
  return longest ? { text, field: longest.field } : { text };
}

/**
 * The body of an official letter: the addressee flush left, paragraphs indented by two
 * characters, each list item numbered with its text hanging beside the number.
 */
export function composeLetter(fonts: FontSet, content: LicenseContent, size: number, column: Column): FlowLine[] {
  const letter = content.type.letter;
  if (!letter) throw new Error(`license type ${content.type.code} has no letter text`);
  const lines: FlowLine[] = [];
  const addressee = fill(content, letter.addressee);
  if (addressee) lines.push(...paragraph(fonts, addressee.text, { ...column, size, ...(addressee.field ? { field: addressee.field } : {}) }));
  const indent = 2 * size;
  for (const p of letter.paragraphs) {
    if (typeof p === 'string') {
      const filled = fill(content, p);
      if (filled) lines.push(...paragraph(fonts, filled.text, { ...column, size, firstIndent: indent, spaceBefore: size * 0.4, ...(filled.field ? { field: filled.field } : {}) }));
      continue;
    }
    const items = content.fields[p.list];
    if (!Array.isArray(items)) continue;
    const labelWidth = fonts.width(`${items.length}. `, size) + size * 0.3;
    items.forEach((item, i) => {
      lines.push(...row(fonts, `${i + 1}.`, String(item), { x: column.x + indent, labelWidth, width: column.width - indent, size, spaceBefore: size * 0.2, field: `fields.${p.list}` }));
    });
  }
  return lines;
}
