import { describe, expect, it } from 'vitest';
import { decodePng, ImageError } from '../../src/seals/raster.js';
import { renderSealPng } from '../../src/seals/seal-image.js';

const isRed = (rgb: Buffer, alpha: Buffer, p: number): boolean => alpha[p]! > 128 && rgb[p * 3]! > 180 && rgb[p * 3 + 1]! < 80 && rgb[p * 3 + 2]! < 80;

describe('standard seal image', () => {
  it('is a red round seal with a star in the centre on a transparent background', async () => {
    const png = renderSealPng({ orgName: '某某市市场监督管理局', purpose: '审批专用章', diameterMm: 40, pixelsPerMm: 10 });
    const { width, height, rgb, alpha } = await decodePng(png);
    expect([width, height]).toEqual([400, 400]);
    expect(alpha).not.toBeNull();
    const at = (x: number, y: number) => y * width + x;
    expect(alpha![at(2, 2)]).toBe(0); // corners transparent
    expect(alpha![at(397, 397)]).toBe(0);
    const ring = 200 - 0.034 * 400 / 2 - 4 - 1; // ring centre line
    for (const [x, y] of [[200, Math.round(200 - ring)], [200, Math.round(200 + ring)], [Math.round(200 - ring), 200], [Math.round(200 + ring), 200]] as const) {
      expect(isRed(rgb, alpha!, at(x, y)), `ring at ${x},${y}`).toBe(true);
    }
    expect(isRed(rgb, alpha!, at(200, 200))).toBe(true); // star centre
    let outside = 0;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (Math.hypot(x - 199.5, y - 199.5) > 201 && alpha![at(x, y)]! > 0) outside++;
    expect(outside).toBe(0);
  });

  it('fits a long organisation name on the arc', async () => {
    const png = renderSealPng({ orgName: '某某市行政审批服务局数据资源管理中心', purpose: '业务专用章', diameterMm: 42, pixelsPerMm: 8 });
    const { alpha } = await decodePng(png);
    expect(alpha).not.toBeNull();
  });

  it('rejects what is not a decodable PNG', async () => {
    await expect(decodePng(Buffer.from('not a png'))).rejects.toBeInstanceOf(ImageError);
    const png = renderSealPng({ orgName: '测试', diameterMm: 40, pixelsPerMm: 4 });
    await expect(decodePng(png.subarray(0, 60))).rejects.toBeInstanceOf(ImageError);
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    await expect(decodePng(huge)).rejects.toThrow(/at most/);
  });
});
