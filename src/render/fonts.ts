import { existsSync } from 'node:fs';

const DEFAULT_SONG_FONT = '/usr/share/fonts/truetype/arphic/uming.ttc';

export class FontMissingError extends Error {
  override name = 'FontMissingError';
}

/** The Song (Ming) face used for seal text: SEAL_FONT_PATH, else Debian's AR PL UMing. */
export function songFontPath(): string {
  const file = process.env.SEAL_FONT_PATH ?? DEFAULT_SONG_FONT;
  if (!existsSync(file)) {
    throw new FontMissingError(`the seal font ${file} is missing: install the Debian package fonts-arphic-uming or set SEAL_FONT_PATH`);
  }
  return file;
}
