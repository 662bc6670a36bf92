/**
 * Flows lines of text down pages. Positions are on the page as displayed, in points from the
 * top-left corner. Content pages have a frame (from `top` to `bottom`); the last page must also
 * hold the closing block (issuer, date, seal, QR code) under the content, and gets a page of its
 * own when the content leaves no room for it.
 */

export interface Segment {
  /** From the page's left edge. */
  x: number;
  text: string;
}

/** One line as composed: what is drawn at one baseline. */
export interface FlowLine {
  segments: Segment[];
  size: number;
  /** The space the line takes down the page (its leading). */
  height: number;
  /** Extra space above the line when it does not start a page (paragraph spacing). */
  spaceBefore: number;
  /** The request field (`fields.x`, `holder.name`) whose text this line carries, if any. */
  field?: string;
}

export interface PlacedLine extends FlowLine {
  pageIndex: number;
  /** The baseline, from the top edge. */
  baseline: number;
}

export interface PageFrame {
  /** Top of the content on the first page and on the following ones. */
  firstTop: number;
  nextTop: number;
  /** Bottom of the content on every page (above the page number). */
  bottom: number;
  /** Height of the closing block, which sits above `bottom` on the last page. */
  closingHeight: number;
}

export interface Flowed {
  lines: PlacedLine[];
  pageCount: number;
  /** True when the closing block has a page to itself (the content filled the page before). */
  closingAlone: boolean;
}

/** The baseline sits this far below the top of a line box, as a share of the font size. */
const ASCENT = 0.9;

export function flowLines(lines: FlowLine[], frame: PageFrame): Flowed {
  const placed: PlacedLine[] = [];
  let pageIndex = 0;
  let y = frame.firstTop;
  let atTop = true;
  for (const line of lines) {
    const gap = atTop ? 0 : line.spaceBefore;
    if (!atTop && y + gap + line.height > frame.bottom) {
      pageIndex++;
      y = frame.nextTop;
      atTop = true;
    }
    const top = y + (atTop ? 0 : line.spaceBefore);
    placed.push({ ...line, pageIndex, baseline: top + line.size * ASCENT });
    y = top + line.height;
    atTop = false;
  }
  const closingAlone = y > frame.bottom - frame.closingHeight;
  return { lines: placed, pageCount: pageIndex + 1 + (closingAlone ? 1 : 0), closingAlone };
}
