/**
 * Characters a sealed document must not carry: they print as nothing, or change how the text
 * around them is shown (a right-to-left override can make "10000" read as "00001" on screen
 * while the sealed bytes say otherwise).
 */

/** Unicode's Bidi_Control characters: marks, embeddings, overrides and isolates. */
const BIDI_CONTROLS = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `text` may not be printed, naming its first offending character, or null when every
 * character is printable. Multi-line fields may hold line feeds (U+000A) and nothing else of the kind.
 * With `canDraw` (the embedded fonts' character maps), a character no font draws is refused too:
 * it would print as an empty box (emoji, unassigned code points, what neither face covers).
 */
export function unprintableCharacter(text: string, multiline: boolean, canDraw?: (cp: number) => boolean): string | null {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x0a) {
      if (!multiline) return 'must be one line (it contains a line break)';
      continue;
    }
    if (cp === 0x0d || cp === 0x2028 || cp === 0x2029) return multiline ? `contains ${hex(cp)}: separate lines with a line feed (U+000A) only` : 'must be one line (it contains a line break)';
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `contains the control character ${hex(cp)}`;
    if (BIDI_CONTROLS.has(cp)) return `contains the bidirectional formatting character ${hex(cp)}, which changes the order text is displayed in`;
    if (cp >= 0xd800 && cp <= 0xdfff) return `contains an unpaired surrogate ${hex(cp)} (not a character)`;
    if ((cp & 0xfffe) === 0xfffe || (cp >= 0xfdd0 && cp <= 0xfdef)) return `contains the noncharacter ${hex(cp)}`;
    if (canDraw && !canDraw(cp)) return `contains ${hex(cp)} (${ch}), which no embedded font can print`;
  }
  return null;
}
