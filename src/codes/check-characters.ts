/** Check characters of the national codes this service validates (facts from GB 32100, GB 11643, ISO 7064). */

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character of the first 17 characters of a unified social credit code, or null if they are not valid. */
export function usccCheckCharacter(first17: string): string | null {
  if (first17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = USCC_ALPHABET.indexOf(first17[i]!);
    if (value < 0) return null;
    sum += value * USCC_WEIGHTS[i]!;
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Unified social credit code (统一社会信用代码), 18 characters with its check character. */
export function isValidUscc(code: string): boolean {
  return /^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code) && usccCheckCharacter(code.slice(0, 17)) === code[17];
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** Citizen identity number (公民身份号码), 18 characters: digits, date of birth, check character. */
export function isValidCitizenId(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  if (birth.getUTCFullYear() !== year || birth.getUTCMonth() !== month - 1 || birth.getUTCDate() !== day) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * ID_WEIGHTS[i]!;
  const check = (12 - (sum % 11)) % 11;
  return id[17] === (check === 10 ? 'X' : String(check));
}

const MOD37_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** ISO 7064 MOD 37,36 check character over `0-9A-Z`, or null for other characters. */
export function mod3736CheckCharacter(text: string): string | null {
  let p = 36;
  for (const ch of text) {
    const v = MOD37_ALPHABET.indexOf(ch);
    if (v < 0) return null;
    let s = (p + v) % 36;
    if (s === 0) s = 36;
    p = (2 * s) % 37;
  }
  return MOD37_ALPHABET[(37 - p) % 36]!;
}

/**
 * ISO/IEC 7064 hybrid system MOD 11,10 check digit over decimal digits, or null for other
 * characters. One decimal digit (never X), detecting every single-digit error and most
 * transpositions. The same check digit as the Croatian OIB, whose published examples
 * (12345678903, 69435151530) it reproduces.
 */
export function mod1110CheckDigit(digits: string): string | null {
  if (!/^\d*$/.test(digits)) return null;
  let p = 10;
  for (const ch of digits) {
    let s = (p + Number(ch)) % 10;
    if (s === 0) s = 10;
    p = (2 * s) % 11;
  }
  return String((11 - p) % 10);
}
