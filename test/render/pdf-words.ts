import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A word as pdftotext -bbox reports it, in points from the page's top-left corner. */
export interface Word {
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
  text: string;
}

export interface PageWords {
  width: number;
  height: number;
  words: Word[];
}

function unescapeHtml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** Every word of every page, read by poppler (an independent reader of what was drawn). */
export async function pdfWords(file: string): Promise<PageWords[]> {
  const { stdout } = await run('pdftotext', ['-bbox', '-enc', 'UTF-8', file, '-'], { maxBuffer: 64 * 1024 * 1024 });
  const pages: PageWords[] = [];
  for (const pageMatch of stdout.matchAll(/<page width="([\d.]+)" height="([\d.]+)">([\s\S]*?)<\/page>/g)) {
    const page = pages.length;
    const words = [...pageMatch[3]!.matchAll(/<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g)].map((m) => {
      const [x0, y0, x1, y1] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
      return { page, x: x0, y: y0, width: x1 - x0, height: y1 - y0, text: unescapeHtml(m[5]!) };
    });
    pages.push({ width: Number(pageMatch[1]), height: Number(pageMatch[2]), words });
  }
  return pages;
}

/** The words of a page grouped into lines (top to bottom), each line's words left to right. */
export function linesOf(words: Word[]): Word[][] {
  const sorted = [...words].sort((a, b) => a.y + a.height - (b.y + b.height));
  const lines: Word[][] = [];
  for (const word of sorted) {
    const bottom = word.y + word.height;
    const line = lines.find((l) => Math.abs(l[0]!.y + l[0]!.height - bottom) < 2);
    if (line) line.push(word);
    else lines.push([word]);
  }
  return lines.map((l) => l.sort((a, b) => a.x - b.x));
}

/**
 * The document's text in reading order with all whitespace removed, without the page numbers
 * and the continuation headers, so a value that runs on over a line or a page reads whole. With
 * `rightColumnX`, the words from there rightwards are a column of their own, read after the
 * left one on every page.
 */
export function flowText(pages: PageWords[], rightColumnX?: number): string {
  const body = pages.map((page, i) =>
    linesOf(page.words)
      .filter((line, n, all) => !(n === all.length - 1 && /^第\d+页共\d+页$/.test(line.map((w) => w.text).join(''))))
      .filter((line, n) => !(i > 0 && n === 0 && line.some((w) => w.text.includes('（续页）')))),
  );
  const read = (pick: (w: Word) => boolean): string =>
    body
      .flatMap((lines) => lines.map((line) => line.filter(pick).map((w) => w.text).join('')))
      .join('')
      .replace(/\s+/g, '');
  if (rightColumnX === undefined) return read(() => true);
  return read((w) => w.x < rightColumnX) + read((w) => w.x >= rightColumnX);
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Whether two rectangles share more than `slack` points both ways (touching edges do not count). */
export function intersects(a: Rect, b: Rect, slack = 0.5): boolean {
  return a.x + slack < b.x + b.width && b.x + slack < a.x + a.width && a.y + slack < b.y + b.height && b.y + slack < a.y + a.height;
}
