/**
 * Line breaking for Chinese text (the kinsoku rules of Chinese typesetting): closing punctuation
 * never starts a line and opening brackets never end one, so each sticks to its neighbour;
 * runs of Latin letters and digits (codes, numbers) are kept whole where they fit.
 */

/** Never at the start of a line. */
const NO_LINE_START = new Set([...'，。、；：？！）》」』】〕〉〗〙〛”’…—～·％‰℃' + ',.;:?!)]}%']);

/** Never at the end of a line. */
const NO_LINE_END = new Set([...'（《「『【〔〈〖〘〚“‘' + '([{']);

function isWordChar(ch: string): boolean {
  return /^[A-Za-z0-9_.\-/@#&+]$/.test(ch);
}

/**
 * Units that may not be broken inside: a character with the closing punctuation after it and the
 * opening brackets before it, or a Latin word. Spaces are units of their own.
 */
export function breakUnits(text: string): string[] {
  const units: string[] = [];
  let pendingOpen = '';
  for (const ch of text) {
    const last = units.length - 1;
    if (pendingOpen === '' && last >= 0 && ch !== ' ' && units[last] !== ' ') {
      const prev = [...units[last]!].at(-1)!;
      if (NO_LINE_START.has(ch) || (isWordChar(ch) && isWordChar(prev) && !NO_LINE_START.has(prev))) {
        units[last] += ch;
        continue;
      }
    }
    if (NO_LINE_END.has(ch)) {
      pendingOpen += ch;
      continue;
    }
    units.push(pendingOpen + ch);
    pendingOpen = '';
  }
  if (pendingOpen) units.push(pendingOpen);
  return units;
}

/**
 * Cuts a unit wider than a whole line into pieces that fit, character by character, still keeping
 * closing punctuation off a piece's start and opening brackets off its end.
 */
function splitWide(unit: string, width: number, measure: (s: string) => number): string[] {
  const pieces: string[] = [];
  let piece: string[] = [];
  let used = 0;
  for (const ch of unit) {
    const w = measure(ch);
    if (piece.length > 0 && used + w > width) {
      const carried: string[] = [];
      if (NO_LINE_START.has(ch) && piece.length > 1) carried.unshift(piece.pop()!);
      while (piece.length > 1 && NO_LINE_END.has(piece.at(-1)!)) carried.unshift(piece.pop()!);
      pieces.push(piece.join(''));
      piece = carried;
      used = measure(carried.join(''));
    }
    piece.push(ch);
    used += w;
  }
  if (piece.length > 0) pieces.push(piece.join(''));
  return pieces;
}

/**
 * Breaks one paragraph (no line feeds) into lines no wider than `width`; the first line has
 * `firstWidth` (for an indent). `measure` must be additive (the width of a string is the sum of
 * its characters' widths), as advance widths are. Spaces at a break are dropped.
 */
export function breakLines(text: string, width: number, measure: (s: string) => number, firstWidth = width): string[] {
  const lines: string[] = [];
  let line = '';
  let used = 0;
  let available = firstWidth;
  const push = (): void => {
    lines.push(line.replace(/ +$/, ''));
    line = '';
    used = 0;
    available = width;
  };
  for (const unit of breakUnits(text)) {
    if (unit === ' ' && line === '') continue;
    const w = measure(unit);
    if (used + w <= available) {
      line += unit;
      used += w;
      continue;
    }
    if (line !== '') push();
    if (unit === ' ') continue;
    if (w <= available) {
      line = unit;
      used = w;
      continue;
    }
    const pieces = splitWide(unit, Math.min(available, width), measure);
    for (const piece of pieces.slice(0, -1)) {
      line = piece;
      push();
    }
    line = pieces.at(-1)!;
    used = measure(line);
  }
  if (line !== '' || lines.length === 0) push();
  return lines;
}
