import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { padGlyphs } from './glyph-padding.js';
import { extractTtcFace, FontFormatError, SFNT_CFF } from './sfnt.js';

/** Debian's AR PL UMing (package fonts-arphic-uming): a Song/Ming face with TrueType outlines. */
export const DEFAULT_SONG_FONT = '/usr/share/fonts/truetype/arphic/uming.ttc';

/**
 * Debian's HanaMin B (package fonts-hanazono): TrueType outlines for CJK Unified Ideographs
 * Extension B and later planes, which UMing lacks (rare name characters such as 𠮷 U+20BB7).
 */
export const DEFAULT_EXTB_FONT = '/usr/share/fonts/truetype/hanazono/HanaMinB.ttf';

/**
 * The face taken from a collection. In uming.ttc face 0 is "AR PL UMing CN", the face with the
 * mainland (simplified) glyph forms; 1 to 3 are the HK, TW and TW MBE variants.
 */
export const SONG_FACE_INDEX = 0;

export class FontMissingError extends Error {
  override name = 'FontMissingError';
}

/** The Song (Ming) font used for seal text and Chinese PDF text: SEAL_FONT_PATH, else Debian's AR PL UMing. */
export function songFontPath(): string {
  const file = process.env.SEAL_FONT_PATH || DEFAULT_SONG_FONT;
  if (!existsSync(file)) {
    const how = process.env.SEAL_FONT_PATH
      ? 'fix SEAL_FONT_PATH, or unset it to use AR PL UMing from the Debian package fonts-arphic-uming'
      : 'install the Debian package fonts-arphic-uming (apt-get install fonts-arphic-uming) or set SEAL_FONT_PATH';
    throw new FontMissingError(`the Song font ${file} is missing: ${how}`);
  }
  return file;
}

/** The second font, for what the Song font cannot draw: EXTB_FONT_PATH, else Debian's HanaMin B; null when absent. */
export function extBFontPath(): string | null {
  const file = process.env.EXTB_FONT_PATH || DEFAULT_EXTB_FONT;
  return existsSync(file) ? file : null;
}

export interface SongFont {
  /** The file the font was read from. */
  path: string;
  /** A standalone TrueType/OpenType font (one face), ready for pdf-lib's embedFont or a canvas. */
  ttf: Buffer;
}

function toSongFont(file: string, data: Buffer): SongFont {
  return toTrueTypeFont(file, data, SONG_FACE_INDEX);
}

function toTrueTypeFont(file: string, data: Buffer, face: number): SongFont {
  const ttf = extractTtcFace(data, face);
  if (ttf.readUInt32BE(0) === SFNT_CFF) {
    // pdf-lib's subsetter writes CFF-outline fonts that poppler rejects and does not draw.
    throw new FontFormatError(`${file} has CFF outlines, which pdf-lib cannot subset correctly: use a TrueType-outline face (AR PL UMing from fonts-arphic-uming, HanaMin B from fonts-hanazono)`);
  }
  return { path: file, ttf: padGlyphs(ttf) };
}

// One load per font file and process: reading and extracting a 20 MB collection costs time and
// memory. Failures are not remembered, so installing the font later works without a restart.
const loaded = new Map<string, SongFont>();
const pending = new Map<string, Promise<SongFont>>();

/** A TrueType face of `file`, read once per process; concurrent callers share one read. */
function loadOnce(file: string, face: number): Promise<SongFont> {
  const done = loaded.get(file);
  if (done) return Promise.resolve(done);
  let promise = pending.get(file);
  if (!promise) {
    promise = readFile(file)
      .then((data) => {
        const font = loaded.get(file) ?? toTrueTypeFont(file, data, face);
        loaded.set(file, font);
        return font;
      })
      .finally(() => pending.delete(file));
    pending.set(file, promise);
  }
  return promise;
}

/** The Song face as a standalone font, read once per process. */
export function loadSongFont(): Promise<SongFont> {
  let file: string;
  try {
    file = songFontPath();
  } catch (err) {
    return Promise.reject(err);
  }
  return loadOnce(file, SONG_FACE_INDEX);
}

/** The same as loadSongFont, for synchronous callers (image rendering); shares its cache. */
export function loadSongFontSync(): SongFont {
  const file = songFontPath();
  let font = loaded.get(file);
  if (!font) {
    font = toSongFont(file, readFileSync(file));
    loaded.set(file, font);
  }
  return font;
}

/**
 * The second font (CJK Extension B), read once per process; null when it is not installed, in
 * which case the characters only it draws are refused as unprintable.
 */
export function loadExtBFont(): Promise<SongFont | null> {
  const file = extBFontPath();
  return file ? loadOnce(file, 0) : Promise.resolve(null);
}
