import { describe, expect, it } from 'vitest';
import { renderSealPng, SealImageError, sealImageSpec, sealLayout, sealSizePx, type SealImageSpec } from '../../src/seals/image.js';
import { SEAL_DIAMETER_MM, SEAL_PURPOSE, SEAL_TYPES } from '../../src/seals/seal-types.js';
import { decodePng } from '../../src/seals/png.js';

const APPROVAL: SealImageSpec = { orgName: '某某市市场监督管理局', purpose: '审批专用章', sealCode: '3301020012345', diameterMm: 40 };
const LONG: SealImageSpec = { orgName: '某某市行政审批服务局数据资源管理中心', purpose: '业务专用章', sealCode: '3301020012346', diameterMm: 40 };
const OFFICIAL: SealImageSpec = { orgName: '某某市市场监督管理局', diameterMm: 42 };
const SHORT: SealImageSpec = { orgName: '某某市政府', diameterMm: 42 };
const VERY_LONG: SealImageSpec = { orgName: '某某省某某市某某区人民政府行政审批服务局数据资源管理中心办公室', purpose: '审批专用章', sealCode: '3301020012345', diameterMm: 42 };

/** A rendered seal, decoded, with lookups by pixel and by polar position. */
class Seal {
  readonly size: number;
  readonly c: number;
  readonly rgb: Buffer;
  readonly alpha: Buffer;
  constructor(readonly spec: SealImageSpec) {
    const image = decodePng(renderSealPng(spec));
    expect(image.width).toBe(image.height);
    expect(image.alpha).not.toBeNull();
    this.size = image.width;
    this.c = image.width / 2;
    this.rgb = image.rgb;
    this.alpha = image.alpha!;
  }
  a(x: number, y: number): number {
    if (x < 0 || y < 0 || x >= this.size || y >= this.size) return 0;
    return this.alpha[y * this.size + x]!;
  }
  /**
   * The colour is the seal red, rgb(230, 0, 18): exactly, but for the rounding of a partly
   * transparent pixel: the canvas stores colour premultiplied by alpha in 8 bits, so one level
   * of the premultiplied value.
   */
  sealRed(x: number, y: number): boolean {
    const p = y * this.size + x;
    const a = this.a(x, y) / 255;
    const off = (v: number, want: number): number => Math.abs(v - want) * a;
    return off(this.rgb[3 * p]!, 230) <= 1 && off(this.rgb[3 * p + 1]!, 0) <= 1 && off(this.rgb[3 * p + 2]!, 18) <= 1;
  }
  /** Opaque enough and the seal red. */
  red(x: number, y: number): boolean {
    return this.a(x, y) >= 200 && this.sealRed(x, y);
  }
  /** The pixel at distance r from the centre, at angle t (radians clockwise from 12 o'clock). */
  at(r: number, t: number): [number, number] {
    return [Math.floor(this.c + r * Math.sin(t)), Math.floor(this.c - r * Math.cos(t))];
  }
  /** Every pixel centre with its polar position. */
  *pixels(): Generator<{ x: number; y: number; r: number; t: number; a: number }> {
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        const dx = x + 0.5 - this.c;
        const dy = y + 0.5 - this.c;
        yield { x, y, r: Math.hypot(dx, dy), t: Math.atan2(dx, -dy), a: this.alpha[y * this.size + x]! };
      }
    }
  }
  /** Pixels with any ink within `d` pixels of (x, y). */
  inkNear(x: number, y: number, d: number): boolean {
    for (let j = y - d; j <= y + d; j++) for (let i = x - d; i <= x + d; i++) if (this.a(i, j) > 0) return true;
    return false;
  }
}

const seals = new Map<string, Seal>();
function seal(spec: SealImageSpec): Seal {
  const key = JSON.stringify(spec);
  if (!seals.has(key)) seals.set(key, new Seal(spec));
  return seals.get(key)!;
}

const deg = (rad: number): number => (rad * 180) / Math.PI;

describe('renderSealPng', () => {
  it('draws a 42 mm official seal as a 504 px square PNG with transparent corners', () => {
    const s = seal(OFFICIAL);
    expect(s.size).toBe(504);
    expect(sealSizePx(42)).toBe(504);
    for (const [x0, y0] of [[0, 0], [494, 0], [0, 494], [494, 494]] as const) {
      for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 10; x++) expect(s.a(x, y)).toBe(0);
    }
  });

  it.each([['official', OFFICIAL], ['approval', APPROVAL], ['long name', LONG], ['short name', SHORT], ['very long name', VERY_LONG]] as const)(
    '%s: a solid red ring, nothing outside it, everything in seal red',
    (_, spec) => {
      const s = seal(spec);
      const L = sealLayout(spec);
      const mid = (L.ring.outer + L.ring.inner) / 2;
      for (const [x, y] of [s.at(mid, 0), s.at(mid, Math.PI), s.at(mid, -Math.PI / 2), s.at(mid, Math.PI / 2)]) {
        expect(s.red(x, y), `ring at (${x}, ${y})`).toBe(true);
      }
      let inkOutside = 0;
      let ringGaps = 0;
      let offColour = 0;
      for (const p of s.pixels()) {
        if (p.r > L.ring.outer + 1 && p.a > 0) inkOutside++;
        if (p.r > L.ring.inner + 1 && p.r < L.ring.outer - 1 && !s.red(p.x, p.y)) ringGaps++;
        if (p.a > 0 && !s.sealRed(p.x, p.y)) offColour++;
      }
      expect(inkOutside).toBe(0);
      expect(ringGaps).toBe(0);
      expect(offColour).toBe(0);
      expect(L.ring.outer - L.ring.inner).toBeGreaterThanOrEqual(0.03 * s.size); // a thick ring
    },
  );

  it('puts a solid five-pointed star in the centre, one point up', () => {
    const s = seal(OFFICIAL);
    const { star } = sealLayout(OFFICIAL);
    const c = s.c;
    for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) expect(s.red(c + dx, c + dy)).toBe(true);
    expect(s.red(...s.at(star.outer * 0.85, 0))).toBe(true); // the top point
    expect(s.a(...s.at(star.outer * 0.85, Math.PI))).toBe(0); // between the two lower points
    for (let k = 0; k < 5; k++) {
      const t = (k * 2 * Math.PI) / 5;
      expect(s.red(...s.at(star.outer * 0.85, t)), `point ${k}`).toBe(true);
      expect(s.a(...s.at(star.outer * 0.85, t + Math.PI / 5)), `notch ${k}`).toBe(0);
    }
  });

  it.each([['approval', APPROVAL], ['long name', LONG], ['official', OFFICIAL], ['short name', SHORT], ['very long name', VERY_LONG]] as const)(
    '%s: the text keeps clear of the ring and of the star',
    (_, spec) => {
      const s = seal(spec);
      const L = sealLayout(spec);
      const band = { inner: L.name.radius - L.name.charHeight / 2, outer: L.name.radius + L.name.charHeight / 2 };
      expect(band.outer).toBeLessThan(L.ring.inner - 0.01 * s.size);
      expect(band.inner).toBeGreaterThan(L.star.outer + 0.05 * s.size);
      let touchingRing = 0;
      let nearStar = 0;
      for (const p of s.pixels()) {
        if (p.a === 0) continue;
        if (p.r > L.ring.inner - 0.008 * s.size && p.r < L.ring.inner - 1.5) touchingRing++;
        if (Math.abs(p.t) <= Math.PI / 2 && p.r > L.star.outer + 2 && p.r < band.inner - 3) nearStar++;
      }
      expect(touchingRing).toBe(0);
      expect(nearStar).toBe(0);
    },
  );

  it.each([['approval', APPROVAL], ['long name', LONG], ['official', OFFICIAL], ['short name', SHORT], ['very long name', VERY_LONG]] as const)(
    '%s: the name is spread evenly over 210 to 250 degrees of the upper rim',
    (_, spec) => {
      const s = seal(spec);
      const { name } = sealLayout(spec);
      const n = name.chars.length;
      const span = deg(name.step * n);
      expect(span).toBeGreaterThanOrEqual(209.9);
      expect(span).toBeLessThanOrEqual(250.1);
      name.angles.forEach((t, i) => {
        expect(t).toBeCloseTo((i - (n - 1) / 2) * name.step, 9); // evenly spaced, centred on the top
      });
      // every character's sector holds ink; the rays between characters cross none
      const inner = name.radius - name.charHeight / 2;
      const outer = name.radius + name.charHeight / 2;
      const inkInSector = new Array<number>(n).fill(0);
      for (const p of s.pixels()) {
        if (p.a === 0 || p.r < inner || p.r > outer) continue;
        const i = Math.round(p.t / name.step + (n - 1) / 2);
        if (i >= 0 && i < n && Math.abs(p.t - name.angles[i]!) < name.step / 2) inkInSector[i]!++;
      }
      for (const [i, count] of inkInSector.entries()) expect(count, `character ${i + 1} ${name.chars[i]}`).toBeGreaterThan(50);
      for (let i = 0; i <= n; i++) {
        const t = (i - n / 2) * name.step;
        for (let r = inner + 2; r < outer; r += 0.5) expect(s.a(...s.at(r, t)), `between characters ${i} and ${i + 1}, r ${r}`).toBe(0);
      }
    },
  );

  it('writes the name left to right, each character upright with its foot towards the centre', () => {
    // 上 has its long stroke at the foot, 下 at the head: with the foot towards the centre the
    // ink of 上 lies nearer the centre than that of 下.
    const spec: SealImageSpec = { orgName: '上上上上下下下下', diameterMm: 42 };
    const s = seal(spec);
    const { name } = sealLayout(spec);
    const sum = name.chars.map(() => ({ r: 0, w: 0 }));
    for (const p of s.pixels()) {
      if (p.a === 0 || p.r < name.radius - name.charHeight / 2 || p.r > name.radius + name.charHeight / 2) continue;
      const i = Math.round(p.t / name.step + (name.chars.length - 1) / 2);
      if (i < 0 || i >= name.chars.length) continue;
      sum[i]!.r += p.r * p.a;
      sum[i]!.w += p.a;
    }
    const meanR = sum.map((x) => x.r / x.w);
    const left = meanR.slice(0, 4); // 上, read first
    const right = meanR.slice(4); // 下
    for (const r of left) expect(r).toBeLessThan(name.radius - 0.05 * name.charHeight);
    for (const r of right) expect(r).toBeGreaterThan(name.radius + 0.05 * name.charHeight);
    expect(name.angles[0]).toBeLessThan(0); // the first character left of 12 o'clock
  });

  it('narrows the characters of a long name to fit, and keeps short names at full width', () => {
    const long = sealLayout(LONG).name;
    const usual = sealLayout(APPROVAL).name;
    expect(deg(long.step * long.chars.length)).toBeCloseTo(250, 5);
    expect(long.squeeze).toBeLessThan(0.7);
    expect(long.squeeze).toBeGreaterThan(0.4);
    expect(long.fontPx).toBeGreaterThan(0.8 * usual.fontPx);
    expect(usual.squeeze).toBeGreaterThan(long.squeeze);
    expect(sealLayout(SHORT).name.squeeze).toBeGreaterThan(0.85);
    // three characters are not scattered over 210 degrees: they keep a natural spacing
    const three = sealLayout({ orgName: '某某局', diameterMm: 42 }).name;
    expect(deg(three.step * 3)).toBeLessThan(180);
    expect(deg(three.step)).toBeGreaterThan(deg(three.fontPx / three.radius) * 1.5);
    // a name of 31 characters is also set smaller, so that it is not narrowed beyond legibility
    const veryLong = sealLayout(VERY_LONG).name;
    expect(veryLong.chars).toHaveLength(31);
    expect(veryLong.fontPx).toBeLessThan(long.fontPx);
    expect(veryLong.squeeze).toBeGreaterThan(0.4);
  });

  it.each([['approval', APPROVAL], ['long name', LONG], ['very long name', VERY_LONG]] as const)('%s: the purpose runs horizontally under the star, clear of everything else', (_, spec) => {
    const withPurpose = seal(spec);
    const { purpose: _purpose, ...rest } = spec;
    const without = seal(rest);
    const L = sealLayout(spec);
    const p = L.purpose!;
    const c = withPurpose.c;
    let minX = Infinity;
    let maxX = -Infinity;
    let count = 0;
    for (let y = 0; y < withPurpose.size; y++) {
      for (let x = 0; x < withPurpose.size; x++) {
        if (withPurpose.a(x, y) <= without.a(x, y)) continue;
        count++;
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        expect(y).toBeGreaterThanOrEqual(p.top - 2);
        expect(y).toBeLessThanOrEqual(p.bottom + 2);
        expect(without.inkNear(x, y, 3), `purpose pixel (${x}, ${y}) touches other ink`).toBe(false);
      }
    }
    expect(count).toBeGreaterThan(1000);
    expect(p.top).toBeGreaterThan(c + L.star.outer * Math.cos(Math.PI / 5)); // below the star's lower points
    expect(maxX - minX).toBeLessThanOrEqual(p.maxWidth + 2);
    expect(maxX - minX).toBeGreaterThan(0.4 * withPurpose.size);
    expect(Math.abs(c - minX - (maxX + 1 - c))).toBeLessThanOrEqual(4); // centred
  });

  it.each([['approval', APPROVAL], ['long name', LONG], ['very long name', VERY_LONG]] as const)('%s: the seal code is small along the lower rim, clear of everything else', (_, spec) => {
    const withCode = seal(spec);
    const { sealCode: _code, ...rest } = spec;
    const without = seal(rest);
    const k = sealLayout(spec).code!;
    expect(k.digits.join('')).toBe(spec.sealCode);
    expect(k.fontPx).toBeLessThan(0.06 * withCode.size);
    const perDigit = new Array<number>(13).fill(0);
    for (const p of withCode.pixels()) {
      if (p.a <= without.a(p.x, p.y)) continue;
      expect(p.y).toBeGreaterThan(withCode.c + 0.3 * withCode.size);
      expect(Math.abs(p.r - k.radius)).toBeLessThan(k.fontPx);
      expect(without.inkNear(p.x, p.y, 3), `code pixel (${p.x}, ${p.y}) touches other ink`).toBe(false);
      const fromBottom = (p.t + 2 * Math.PI) % (2 * Math.PI);
      const i = Math.round((Math.PI - fromBottom) / k.step + 6);
      if (i >= 0 && i < 13) perDigit[i]!++;
    }
    for (const [i, count] of perDigit.entries()) expect(count, `digit ${i + 1}`).toBeGreaterThan(10);
    // left to right: the first digit left of 6 o'clock
    expect(Math.sin(k.angles[0]!)).toBeLessThan(0);
    expect(Math.sin(k.angles[12]!)).toBeGreaterThan(0);
  });

  it('sizes and purposes by seal type', () => {
    expect(SEAL_TYPES).toEqual(['official', 'approval', 'business', 'contract', 'finance']);
    expect(SEAL_DIAMETER_MM.official).toBe(42);
    for (const t of ['approval', 'business', 'contract', 'finance'] as const) expect(SEAL_DIAMETER_MM[t]).toBe(40);
    expect(SEAL_PURPOSE).toEqual({ official: undefined, approval: '审批专用章', business: '业务专用章', contract: '合同专用章', finance: '财务专用章' });
    expect(sealImageSpec('official', '某某市人民政府办公室')).toEqual({ orgName: '某某市人民政府办公室', diameterMm: 42 });
    expect(sealImageSpec('finance', '某某市财政局', '3301020012347')).toEqual({ orgName: '某某市财政局', diameterMm: 40, purpose: '财务专用章', sealCode: '3301020012347' });
    const small = decodePng(renderSealPng({ ...sealImageSpec('contract', '某某市人民政府办公室'), pixelsPerMm: 6 }));
    expect([small.width, small.height]).toEqual([240, 240]);
  });

  it('refuses specs it cannot draw', () => {
    const bad: Array<[Partial<SealImageSpec>, RegExp]> = [
      [{ orgName: '  ' }, /name is empty/],
      [{ orgName: '某'.repeat(33) }, /33 characters; at most 32/],
      [{ sealCode: '123456789012' }, /13 digits/],
      [{ sealCode: '330102001234X' }, /13 digits/],
      [{ diameterMm: 5 }, /outside 20 to 80 mm/],
      [{ diameterMm: Number.NaN }, /outside 20 to 80 mm/],
      [{ pixelsPerMm: 0 }, /px\/mm/],
      [{ diameterMm: 80, pixelsPerMm: 40 }, /3200 px is larger than 3000 px/],
      [{ purpose: '审批专用章审批专用章审批专用章' }, /purpose/],
    ];
    for (const [change, message] of bad) {
      expect(() => renderSealPng({ ...APPROVAL, ...change })).toThrow(SealImageError);
      expect(() => renderSealPng({ ...APPROVAL, ...change })).toThrow(message);
    }
  });
});
