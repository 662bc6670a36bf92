import { describe, expect, it } from 'vitest';
import { isValidCitizenId, isValidUscc, mod1110CheckDigit, mod3736CheckCharacter } from '../../src/codes/check-characters.js';

describe('check characters', () => {
  it('validates unified social credit codes', () => {
    for (const code of ['91350100M000100Y43', '91310230MA1K314J7C', '11430000006122244L', '11220000013544541J']) expect(isValidUscc(code)).toBe(true);
    expect(isValidUscc('91350100M000100Y44')).toBe(false);
    expect(isValidUscc('91350100M000100Y4')).toBe(false);
    expect(isValidUscc('9135010OM000100Y43')).toBe(false);
  });

  it('validates citizen identity numbers, including the date of birth', () => {
    expect(isValidCitizenId('11010519491231002X')).toBe(true);
    expect(isValidCitizenId('440524188001010014')).toBe(true);
    expect(isValidCitizenId('110105194912310021')).toBe(false);
    expect(isValidCitizenId('11010519491331002X')).toBe(false);
  });

  it('computes ISO 7064 MOD 37,36 check characters of real license identifiers', () => {
    const ids = [
      '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
      '1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F',
      '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0',
      '1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9',
    ];
    for (const id of ids) {
      const parts = id.slice('1.2.156.3005.2.'.length).split('.');
      const check = parts.pop()!;
      expect(mod3736CheckCharacter(parts.join(''))).toBe(check);
    }
    expect(mod3736CheckCharacter('abc')).toBeNull();
  });
});

describe('ISO/IEC 7064 MOD 11,10', () => {
  it('reproduces published check digits and detects every single-digit error', () => {
    // Croatian OIB examples, which use this check digit
    expect(mod1110CheckDigit('1234567890')).toBe('3');
    expect(mod1110CheckDigit('6943515153')).toBe('0');
    expect(mod1110CheckDigit('12A')).toBeNull();
    const body = '2370500000123';
    const check = mod1110CheckDigit(body);
    for (let i = 0; i < body.length; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === body[i]) continue;
        expect(mod1110CheckDigit(`${body.slice(0, i)}${d}${body.slice(i + 1)}`), `${i}:${d}`).not.toBe(check);
      }
    }
  });
});
