import { describe, expect, it } from 'vitest';
import { breakLines, breakUnits } from '../../src/render/line-break.js';

/** Every character 1 unit wide, Latin ones half: close enough to the Song face to exercise the rules. */
const measure = (s: string): number => [...s].reduce((w, ch) => w + (ch.codePointAt(0)! < 0x2e80 ? 0.5 : 1), 0);

const CLOSING = [...'，。、；：？！）》」'];
const OPENING = [...'（《「'];

describe('Chinese line breaking', () => {
  const text = '申请人应当提交：（一）营业执照复印件（加盖公章）；（二）法定代表人身份证明，《食品经营许可申请书》一份。经审查，材料齐全！是否需要补正？请于2026年12月31日前提交。统一社会信用代码91350100M000100Y43，联系电话0531-12345678。';

  it('never starts a line with closing punctuation nor ends one with an opening bracket, at any width, and keeps every character', () => {
    for (let width = 3; width <= 40; width++) {
      const lines = breakLines(text, width, measure);
      expect(lines.join('')).toBe(text);
      for (const line of lines) {
        expect(measure(line)).toBeLessThanOrEqual(width);
        expect(CLOSING).not.toContain([...line][0]);
        expect(OPENING).not.toContain([...line].at(-1));
      }
    }
  });

  it('keeps codes and numbers whole where they fit, and cuts only what is wider than a line', () => {
    const lines = breakLines('代码91350100M000100Y43', 10, measure);
    expect(lines).toEqual(['代码', '91350100M000100Y43']);
    const narrow = breakLines('91350100M000100Y43', 4, measure);
    expect(narrow.join('')).toBe('91350100M000100Y43');
    expect(narrow.every((l) => measure(l) <= 4)).toBe(true);
  });

  it('gives the first line its own width (an indent) and drops spaces at a break', () => {
    const lines = breakLines('一二三四五六七八九十', 5, measure, 3);
    expect(lines).toEqual(['一二三', '四五六七八', '九十']);
    expect(breakLines('ab cd', 2, measure)).toEqual(['ab', 'cd']);
  });

  it('binds punctuation to its neighbours', () => {
    expect(breakUnits('（一）材料，')).toEqual(['（一）', '材', '料，']);
    expect(breakUnits('见《办法》。')).toEqual(['见', '《办', '法》。']);
  });
});
