/**
 * The seal image as a page carries it (pdf/image.ts): colours nobody can see apart from the
 * ink are written as the ink, so the colour samples deflate to almost nothing, and what a viewer
 * composites stays within one level of the original everywhere.
 */
import { randomInt } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { prepareImage, type RasterImage } from '../../src/pdf/image.js';
import { pageImage } from '../../src/seals/image-pipeline.js';
import { renderSealPng } from '../../src/seals/image.js';
import { decodePng } from '../../src/seals/png.js';

const INK = [230, 0, 18];
const BLUE = [0, 0, 200];

/** A disc of ink with a ring of edge pixels whose colour strays as un-premultiplied alpha rounds, a blue square, and a transparent background of any colour. */
function stamp(size: number): RasterImage {
  const rgb = Buffer.alloc(size * size * 3);
  const alpha = Buffer.alloc(size * size);
  const centre = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const distance = Math.hypot(x - centre, y - centre);
      let colour = [randomInt(256), randomInt(256), randomInt(256)];
      let a = 0;
      if (x >= 4 && x < 12 && y >= 4 && y < 12) [colour, a] = [BLUE, 255];
      else if (distance < size / 3) [colour, a] = [INK, 255];
      else if (distance < size / 3 + 3) {
        a = randomInt(1, 255);
        const stray = Math.floor(255 / (2 * a));
        colour = INK.map((c) => Math.min(255, Math.max(0, c + randomInt(-stray, stray + 1))));
      }
      rgb.set(colour, p * 3);
      alpha[p] = a;
    }
  }
  return { width: size, height: size, rgb, alpha };
}

const composited = (c: number, a: number): number => (c * a) / 255;

describe('seal image samples', () => {
  it('writes colours that cannot be seen apart from the ink as the ink: composited within one level, the blue kept, the alpha untouched', () => {
    const image = stamp(96);
    const prepared = prepareImage(image);
    const rgb = inflateSync(prepared.rgbDeflated);
    expect(inflateSync(prepared.alphaDeflated!).equals(image.alpha!)).toBe(true);
    let changed = 0;
    for (let p = 0; p < image.alpha!.length; p++) {
      const a = image.alpha![p]!;
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(composited(rgb[p * 3 + k]!, a) - composited(image.rgb[p * 3 + k]!, a))).toBeLessThanOrEqual(1);
        if (rgb[p * 3 + k] !== image.rgb[p * 3 + k]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(0);
    for (let y = 4; y < 12; y++) for (let x = 4; x < 12; x++) expect([...rgb.subarray((y * 96 + x) * 3, (y * 96 + x) * 3 + 3)]).toEqual(BLUE);
    expect(prepared.rgbDeflated.length).toBeLessThan(deflateSync(image.rgb, { level: 9 }).length / 4);
  });

  it('keeps an image without alpha as it is', () => {
    const rgb = Buffer.from(Array.from({ length: 16 * 16 * 3 }, () => randomInt(256)));
    const prepared = prepareImage({ width: 16, height: 16, rgb, alpha: null });
    expect(inflateSync(prepared.rgbDeflated).equals(rgb)).toBe(true);
    expect(prepared.alphaDeflated).toBeNull();
  });

  it("shrinks a rendered standard seal's colour samples to under 2 KB", () => {
    const png = renderSealPng({ orgName: '某某市行政审批服务局', purpose: '公章', diameterMm: 42 });
    const decoded = decodePng(png);
    const prepared = pageImage(png);
    expect(deflateSync(decoded.rgb, { level: 9 }).length).toBeGreaterThan(10_000);
    expect(prepared.rgbDeflated.length).toBeLessThan(2_000);
  });
});
