/**
 * Character encodings of simple fonts (PDF 32000-1, Annex D) and the glyph names they use, mapped
 * to Unicode; plus rough metrics of the standard 14 fonts for files that omit `/Widths`.
 * Only the Latin glyph names of the three base encodings (and a few more) are listed: anything
 * else resolves through the `uniXXXX` / `uXXXX` naming conventions or not at all.
 */

const ASCII_NAMES = (
  'space exclam quotedbl numbersign dollar percent ampersand quotesingle parenleft parenright asterisk plus comma ' +
  'hyphen period slash zero one two three four five six seven eight nine colon semicolon less equal greater ' +
  'question at A B C D E F G H I J K L M N O P Q R S T U V W X Y Z bracketleft backslash bracketright ' +
  'asciicircum underscore grave a b c d e f g h i j k l m n o p q r s t u v w x y z braceleft bar braceright asciitilde'
).split(' ');

/** WinAnsi 0x80-0x9F ('' = unused) with the Unicode values of those names. */
const WIN_ANSI_HIGH: Array<[string, number]> = [
  ['Euro', 0x20ac], ['', 0], ['quotesinglbase', 0x201a], ['florin', 0x0192], ['quotedblbase', 0x201e],
  ['ellipsis', 0x2026], ['dagger', 0x2020], ['daggerdbl', 0x2021], ['circumflex', 0x02c6], ['perthousand', 0x2030],
  ['Scaron', 0x0160], ['guilsinglleft', 0x2039], ['OE', 0x0152], ['', 0], ['Zcaron', 0x017d], ['', 0],
  ['', 0], ['quoteleft', 0x2018], ['quoteright', 0x2019], ['quotedblleft', 0x201c], ['quotedblright', 0x201d],
  ['bullet', 0x2022], ['endash', 0x2013], ['emdash', 0x2014], ['tilde', 0x02dc], ['trademark', 0x2122],
  ['scaron', 0x0161], ['guilsinglright', 0x203a], ['oe', 0x0153], ['', 0], ['zcaron', 0x017e], ['Ydieresis', 0x0178],
];

/** Names of Latin-1 0xA0-0xFF, in order; each is the Unicode code point of its position. */
const LATIN1_NAMES = (
  'nbspace exclamdown cent sterling currency yen brokenbar section dieresis copyright ordfeminine guillemotleft ' +
  'logicalnot sfthyphen registered macron degree plusminus twosuperior threesuperior acute mu paragraph ' +
  'periodcentered cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters questiondown ' +
  'Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla Egrave Eacute Ecircumflex Edieresis Igrave Iacute ' +
  'Icircumflex Idieresis Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply Oslash Ugrave Uacute ' +
  'Ucircumflex Udieresis Yacute Thorn germandbls agrave aacute acircumflex atilde adieresis aring ae ccedilla ' +
  'egrave eacute ecircumflex edieresis igrave iacute icircumflex idieresis eth ntilde ograve oacute ocircumflex ' +
  'otilde odieresis divide oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis'
).split(' ');

const EXTRA_NAMES: Array<[string, number]> = [
  ['quoteright', 0x2019], ['quoteleft', 0x2018], ['fi', 0xfb01], ['fl', 0xfb02], ['ff', 0xfb00], ['ffi', 0xfb03],
  ['ffl', 0xfb04], ['fraction', 0x2044], ['dotlessi', 0x0131], ['dotlessj', 0x0237], ['Lslash', 0x0141],
  ['lslash', 0x0142], ['breve', 0x02d8], ['dotaccent', 0x02d9], ['ring', 0x02da], ['hungarumlaut', 0x02dd],
  ['ogonek', 0x02db], ['caron', 0x02c7], ['notequal', 0x2260], ['infinity', 0x221e], ['lessequal', 0x2264],
  ['greaterequal', 0x2265], ['partialdiff', 0x2202], ['summation', 0x2211], ['product', 0x220f], ['pi', 0x03c0],
  ['integral', 0x222b], ['Omega', 0x2126], ['radical', 0x221a], ['approxequal', 0x2248], ['Delta', 0x2206],
  ['lozenge', 0x25ca], ['apple', 0xf8ff], ['minus', 0x2212], ['middot', 0x00b7], ['periodcentered', 0x00b7],
  ['Euro', 0x20ac], ['dotlessi', 0x0131], ['Scedilla', 0x015e], ['scedilla', 0x015f], ['Gbreve', 0x011e],
  ['gbreve', 0x011f], ['Idotaccent', 0x0130], ['Ccaron', 0x010c], ['ccaron', 0x010d], ['Ecaron', 0x011a],
  ['ecaron', 0x011b], ['Rcaron', 0x0158], ['rcaron', 0x0159], ['Uring', 0x016e], ['uring', 0x016f],
  ['Aogonek', 0x0104], ['aogonek', 0x0105], ['Eogonek', 0x0118], ['eogonek', 0x0119], ['Nacute', 0x0143],
  ['nacute', 0x0144], ['Sacute', 0x015a], ['sacute', 0x015b], ['Zacute', 0x0179], ['zacute', 0x017a],
  ['Zdotaccent', 0x017b], ['zdotaccent', 0x017c], ['Ohungarumlaut', 0x0150], ['ohungarumlaut', 0x0151],
  ['Uhungarumlaut', 0x0170], ['uhungarumlaut', 0x0171], ['Amacron', 0x0100], ['amacron', 0x0101],
  ['Emacron', 0x0112], ['emacron', 0x0113], ['Imacron', 0x012a], ['imacron', 0x012b], ['Omacron', 0x014c],
  ['omacron', 0x014d], ['Umacron', 0x016a], ['umacron', 0x016b], ['degree', 0x00b0], ['uni00A0', 0x00a0],
];

const NAME_TO_UNICODE = new Map<string, string>();
ASCII_NAMES.forEach((n, i) => NAME_TO_UNICODE.set(n, String.fromCharCode(0x20 + i)));
for (const [n, u] of WIN_ANSI_HIGH) if (n) NAME_TO_UNICODE.set(n, String.fromCharCode(u));
LATIN1_NAMES.forEach((n, i) => NAME_TO_UNICODE.set(n, String.fromCharCode(0xa0 + i)));
for (const [n, u] of EXTRA_NAMES) NAME_TO_UNICODE.set(n, String.fromCodePoint(u));

export type Encoding = ReadonlyArray<string | undefined>;

function asciiPart(quoteRight: boolean): Array<string | undefined> {
  const table: Array<string | undefined> = new Array(256).fill(undefined);
  ASCII_NAMES.forEach((n, i) => (table[0x20 + i] = n));
  if (quoteRight) {
    table[0x27] = 'quoteright';
    table[0x60] = 'quoteleft';
  }
  return table;
}

export const WIN_ANSI_ENCODING: Encoding = (() => {
  const table = asciiPart(false);
  WIN_ANSI_HIGH.forEach(([n], i) => (table[0x80 + i] = n || 'bullet')); // unused codes show a bullet
  table[0x7f] = 'bullet';
  LATIN1_NAMES.forEach((n, i) => (table[0xa0 + i] = n));
  table[0xa0] = 'space';
  table[0xad] = 'hyphen';
  return table;
})();

export const STANDARD_ENCODING: Encoding = (() => {
  const table = asciiPart(true);
  const high =
    'A1 exclamdown A2 cent A3 sterling A4 fraction A5 yen A6 florin A7 section A8 currency A9 quotesingle ' +
    'AA quotedblleft AB guillemotleft AC guilsinglleft AD guilsinglright AE fi AF fl B1 endash B2 dagger ' +
    'B3 daggerdbl B4 periodcentered B6 paragraph B7 bullet B8 quotesinglbase B9 quotedblbase BA quotedblright ' +
    'BB guillemotright BC ellipsis BD perthousand BF questiondown C1 grave C2 acute C3 circumflex C4 tilde ' +
    'C5 macron C6 breve C7 dotaccent C8 dieresis CA ring CB cedilla CD hungarumlaut CE ogonek CF caron ' +
    'D0 emdash E1 AE E3 ordfeminine E8 Lslash E9 Oslash EA OE EB ordmasculine F1 ae F5 dotlessi F8 lslash ' +
    'F9 oslash FA oe FB germandbls';
  const parts = high.split(' ');
  for (let i = 0; i < parts.length; i += 2) table[parseInt(parts[i]!, 16)] = parts[i + 1];
  return table;
})();

export const MAC_ROMAN_ENCODING: Encoding = (() => {
  const table = asciiPart(false);
  const high = (
    'Adieresis Aring Ccedilla Eacute Ntilde Odieresis Udieresis aacute agrave acircumflex adieresis atilde aring ' +
    'ccedilla eacute egrave ecircumflex edieresis iacute igrave icircumflex idieresis ntilde oacute ograve ' +
    'ocircumflex odieresis otilde uacute ugrave ucircumflex udieresis dagger degree cent sterling section bullet ' +
    'paragraph germandbls registered copyright trademark acute dieresis notequal AE Oslash infinity plusminus ' +
    'lessequal greaterequal yen mu partialdiff summation product pi integral ordfeminine ordmasculine Omega ae ' +
    'oslash questiondown exclamdown logicalnot radical florin approxequal Delta guillemotleft guillemotright ' +
    'ellipsis space Agrave Atilde Otilde OE oe endash emdash quotedblleft quotedblright quoteleft quoteright ' +
    'divide lozenge ydieresis Ydieresis fraction currency guilsinglleft guilsinglright fi fl daggerdbl ' +
    'periodcentered quotesinglbase quotedblbase perthousand Acircumflex Ecircumflex Aacute Edieresis Egrave ' +
    'Iacute Icircumflex Idieresis Igrave Oacute Ocircumflex apple Ograve Uacute Ucircumflex Ugrave dotlessi ' +
    'circumflex tilde macron breve dotaccent ring cedilla hungarumlaut ogonek caron'
  ).split(' ');
  high.forEach((n, i) => (table[0x80 + i] = n));
  return table;
})();

export function namedEncoding(name: string): Encoding | undefined {
  switch (name) {
    case 'WinAnsiEncoding':
      return WIN_ANSI_ENCODING;
    case 'StandardEncoding':
      return STANDARD_ENCODING;
    case 'MacRomanEncoding':
      return MAC_ROMAN_ENCODING;
    default:
      return undefined;
  }
}

function fromHexCodePoint(hex: string): string | undefined {
  const value = parseInt(hex, 16);
  if (!Number.isFinite(value) || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return undefined;
  return String.fromCodePoint(value);
}

/**
 * The Unicode text of a glyph name: the Latin names of the base encodings, `uniXXXX[XXXX...]`,
 * `uXXXX[XX]`, suffixed names (`a.sc`) and ligatures written with underscores (`f_f_i`).
 */
export function glyphNameToUnicode(glyphName: string, depth = 0): string | undefined {
  const known = NAME_TO_UNICODE.get(glyphName);
  if (known !== undefined) return known;
  if (glyphName.length === 0 || glyphName.length > 256 || depth > 1) return undefined;
  const dot = glyphName.indexOf('.');
  if (dot === 0) return undefined; // .notdef and the like
  if (dot > 0) return glyphNameToUnicode(glyphName.slice(0, dot), depth);
  if (glyphName.includes('_')) {
    let out = '';
    for (const part of glyphName.split('_')) {
      const text = glyphNameToUnicode(part, depth + 1);
      if (text === undefined) return undefined;
      out += text;
    }
    return out;
  }
  let m = /^uni((?:[0-9A-Fa-f]{4})+)$/.exec(glyphName);
  if (m) {
    let out = '';
    for (let i = 0; i < m[1]!.length; i += 4) {
      const ch = fromHexCodePoint(m[1]!.slice(i, i + 4));
      if (ch === undefined) return undefined;
      out += ch;
    }
    return out;
  }
  m = /^u([0-9A-Fa-f]{4,6})$/.exec(glyphName);
  if (m) return fromHexCodePoint(m[1]!);
  return undefined;
}

/*
 * Advance widths (1/1000 em) of the standard 14 fonts for printable ASCII (0x20-0x7E, by
 * Unicode character), for simple fonts that come without /Widths (as pdf-lib writes them).
 */
const HELVETICA =
  '278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 278 278 584 584 584 556 ' +
  '1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 ' +
  '333 556 556 500 556 556 278 556 556 222 222 500 222 833 556 556 556 556 333 500 278 556 500 722 500 500 500 334 260 334 584';
const HELVETICA_BOLD =
  '278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 333 333 584 584 584 611 ' +
  '975 722 722 722 722 667 611 778 722 278 556 722 611 833 722 778 667 778 722 667 611 722 667 944 667 667 611 333 278 333 584 556 ' +
  '333 556 611 556 611 556 333 611 611 278 278 556 278 889 611 611 611 611 389 556 333 611 556 778 556 556 500 389 280 389 584';
const TIMES_ROMAN =
  '250 333 408 500 500 833 778 180 333 333 500 564 250 333 250 278 500 500 500 500 500 500 500 500 500 500 278 278 564 564 564 444 ' +
  '921 722 667 667 722 611 556 722 722 333 389 722 611 889 722 722 556 722 667 556 611 722 722 944 722 722 611 333 278 333 469 500 ' +
  '333 444 500 444 500 444 333 500 500 278 278 500 278 778 500 500 500 500 333 389 278 500 500 722 500 500 444 480 200 480 541';
const TIMES_BOLD =
  '250 333 555 500 500 1000 833 278 333 333 500 570 250 333 250 278 500 500 500 500 500 500 500 500 500 500 333 333 570 570 570 500 ' +
  '930 722 667 722 722 667 611 778 778 389 500 778 667 944 722 778 611 778 722 556 667 722 722 1000 722 722 667 333 278 333 581 500 ' +
  '333 500 556 444 556 444 333 500 556 278 333 556 278 833 556 500 556 556 444 389 333 556 500 722 500 500 444 394 220 394 520';

export interface StandardMetrics {
  /** Width of a character, by Unicode text, in 1/1000 em. */
  width(text: string): number;
}

function metrics(table: string | undefined, fallback: number, quotes: number): StandardMetrics {
  const widths = table?.split(' ').map(Number);
  return {
    width(text: string): number {
      if (text.length !== 1) return fallback;
      const code = text.charCodeAt(0);
      if (widths && code >= 0x20 && code <= 0x7e) return widths[code - 0x20] ?? fallback;
      if (widths && (code === 0x2018 || code === 0x2019)) return quotes;
      return fallback;
    },
  };
}

const STANDARD_METRICS = {
  helvetica: metrics(HELVETICA, 556, 222),
  helveticaBold: metrics(HELVETICA_BOLD, 556, 278),
  times: metrics(TIMES_ROMAN, 500, 333),
  timesBold: metrics(TIMES_BOLD, 500, 333),
  courier: metrics(undefined, 600, 600),
};

/**
 * Metrics for a font without /Widths, by its base font name: the standard 14 families and their
 * usual substitutes (Arial, Times New Roman, Courier New); anything else is treated as Helvetica.
 */
export function standardMetrics(baseFont: string): StandardMetrics {
  const name = baseFont.replace(/^[A-Z]{6}\+/, '').toLowerCase();
  const bold = /bold|black|heavy/.test(name);
  if (name.startsWith('courier')) return STANDARD_METRICS.courier;
  if (name.startsWith('times')) return bold ? STANDARD_METRICS.timesBold : STANDARD_METRICS.times;
  return bold ? STANDARD_METRICS.helveticaBold : STANDARD_METRICS.helvetica;
}
