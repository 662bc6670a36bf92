import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/seals/png.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const DPI = 36; // 0.5 pixel per point
const MM = 72 / 25.4;

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

interface RedBox {
  count: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** Renders one page with pdftoppm (independent renderer) and finds the seal-red pixels. */
async function redPixels(pdf: Buffer, page: number): Promise<RedBox & { width: number; height: number }> {
  const dir = tempDir('render');
  execFileSync('pdftoppm', ['-r', String(DPI), '-f', String(page), '-l', String(page), '-png', '-singlefile', writeTemp('in.pdf', pdf), path.join(dir, 'page')]);
  const image = decodePng(readFileSync(path.join(dir, 'page.png')));
  const box: RedBox = { count: 0, minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 3;
      const [r, g, b] = [image.rgb[i]!, image.rgb[i + 1]!, image.rgb[i + 2]!];
      if (r > 180 && g < 90 && b < 90) {
        box.count++;
        box.minX = Math.min(box.minX, x);
        box.maxX = Math.max(box.maxX, x);
        box.minY = Math.min(box.minY, y);
        box.maxY = Math.max(box.maxY, y);
      }
    }
  }
  return { ...box, width: image.width, height: image.height };
}

const px = (mm: number): number => (mm * MM * DPI) / 72;

describe('where the seal lands', () => {
  it('puts the seal centred on the requested x/y in millimetres from the top-left', async () => {
    const sealed = await sealOk(svc, await makePdf(2), { sealId: 'scjg-approval', page: '2', x: '60', y: '100', width: '40' });
    const red = await redPixels(sealed, 2);
    expect(red.count).toBeGreaterThan(300);
    expect(Math.abs((red.minX + red.maxX) / 2 - px(60))).toBeLessThan(3);
    expect(Math.abs((red.minY + red.maxY) / 2 - px(100))).toBeLessThan(3);
    expect(Math.abs(red.maxX - red.minX - px(40))).toBeLessThan(4);
    const other = await redPixels(sealed, 1);
    expect(other.count).toBe(0);
  });

  it('takes points when unit=pt', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'xzsp-official', unit: 'pt', x: '300', y: '400', width: '100' });
    const red = await redPixels(sealed, 1);
    expect(Math.abs((red.minX + red.maxX) / 2 - 150)).toBeLessThan(3);
    expect(Math.abs((red.minY + red.maxY) / 2 - 200)).toBeLessThan(3);
  });

  it('centres the seal on anchor text', async () => {
    // makePdf draws "Seal here: (SEAL)" at x=300pt, baseline y=200pt from the bottom, 14pt Helvetica.
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'xzsp-approval', anchor: '(SEAL)' });
    const red = await redPixels(sealed, 1);
    const cx = (red.minX + red.maxX) / 2 / 0.5;
    const cy = (red.minY + red.maxY) / 2 / 0.5;
    expect(cx).toBeGreaterThan(380);
    expect(cx).toBeLessThan(420);
    expect(841.89 - cy).toBeGreaterThan(195);
    expect(841.89 - cy).toBeLessThan(215);
  });

  it('keeps the seal upright on a rotated page', async () => {
    const { PDFDocument, degrees } = await import('pdf-lib');
    const doc = await PDFDocument.load(await makePdf(1));
    doc.getPage(0).setRotation(degrees(90));
    const rotated = Buffer.from(await doc.save({ useObjectStreams: false }));
    const sealed = await sealOk(svc, rotated, { sealId: 'scjg-official', x: '60', y: '50', width: '42' });
    const red = await redPixels(sealed, 1);
    expect(red.width).toBeGreaterThan(red.height); // displayed landscape
    expect(Math.abs((red.minX + red.maxX) / 2 - px(60))).toBeLessThan(3);
    expect(Math.abs((red.minY + red.maxY) / 2 - px(50))).toBeLessThan(3);
  });

  it('gives every page of a seam seal its slice at the right edge', async () => {
    const sealed = await sealOk(svc, await makePdf(3), { sealId: 'scjg-approval', mode: 'seam', y: '120' });
    for (const page of [1, 2, 3]) {
      const red = await redPixels(sealed, page);
      expect(red.count).toBeGreaterThan(50);
      expect(red.maxX).toBeGreaterThanOrEqual(red.width - 2);
      expect(red.minX).toBeGreaterThan(red.width - px(40) / 3 - 3);
      expect(Math.abs((red.minY + red.maxY) / 2 - px(120))).toBeLessThan(4);
    }
  });
});
