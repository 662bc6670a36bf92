import { describe, expect, it } from 'vitest';
import { isValidCitizenId, isValidUscc, mod3736CheckCharacter } from '../../src/codes/check-characters.js';

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
