import type { FontSet } from './font-set.js';
import type { FlowLine } from './flow.js';
import { breakLines } from './line-break.js';

/** Leading as a share of the font size. */
export const LINE_HEIGHT = 1.6;

export interface ParagraphOptions {
  x: number;
  width: number;
  size: number;
  /** Indent of each paragraph's first line (two characters in Chinese body text), negative for a hanging one. */
  firstIndent?: number;
  spaceBefore?: number;
  field?: string;
}

/** Text broken into lines; each line feed starts a new paragraph. */
export function paragraph(fonts: FontSet, text: string, o: ParagraphOptions): FlowLine[] {
  const measure = (s: string): number => fonts.width(s, o.size);
  const indent = o.firstIndent ?? 0;
  const lines: FlowLine[] = [];
  for (const [p, part] of text.split('\n').entries()) {
    const broken = breakLines(part, o.width - Math.max(0, -indent), measure, o.width - Math.max(0, indent));
    for (const [i, line] of broken.entries()) {
      const x = i === 0 ? o.x + Math.max(0, indent) : o.x + Math.max(0, -indent);
      lines.push({
        segments: line ? [{ x, text: line }] : [],
        size: o.size,
        height: o.size * LINE_HEIGHT,
        spaceBefore: i === 0 && p === 0 ? (o.spaceBefore ?? 0) : 0,
        ...(o.field ? { field: o.field } : {}),
      });
    }
  }
  return lines;
}

export interface RowOptions {
  x: number;
  labelWidth: number;
  width: number;
  size: number;
  spaceBefore: number;
  field?: string;
}

/** A label and its value beside it; the value's lines stay in the value column. */
export function row(fonts: FontSet, label: string, value: string, o: RowOptions): FlowLine[] {
  const lines = paragraph(fonts, value, { x: o.x + o.labelWidth, width: o.width - o.labelWidth, size: o.size, spaceBefore: o.spaceBefore, ...(o.field ? { field: o.field } : {}) });
  lines[0] = { ...lines[0]!, segments: [{ x: o.x, text: label }, ...lines[0]!.segments] };
  return lines;
}

/** One line centred between `left` and `right`. */
export function centred(fonts: FontSet, text: string, size: number, left: number, right: number, spaceBefore = 0): FlowLine {
  return { segments: [{ x: left + (right - left - fonts.width(text, size)) / 2, text }], size, height: size * LINE_HEIGHT, spaceBefore };
}

/** The largest size up to `size` at which `text` fits `width` on one line. */
export function fitSize(fonts: FontSet, text: string, size: number, width: number): number {
  const natural = fonts.width(text, size);
  return natural <= width ? size : Math.floor(((size * width) / natural) * 10) / 10;
}
