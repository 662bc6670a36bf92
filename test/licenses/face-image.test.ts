import { describe, expect, it } from 'vitest';
import { FaceRenderFailed, FaceRendererBusy, LicenseFaceRenderer } from '../../src/licenses/face-image.js';
import { makePdf } from '../helpers/pdfs.js';

const dimensions = (png: Buffer): [number, number] => [png.readUInt32BE(16), png.readUInt32BE(20)];

describe('the licence face renderer', () => {
  it('renders the first page to a PNG of the given size, once per licence, and keeps at most the given number', async () => {
    const renderer = new LicenseFaceRenderer({ sizePx: 300, maxEntries: 2 });
    const pdf = await makePdf(2);
    let loads = 0;
    const load = async (): Promise<Buffer> => {
      loads++;
      return pdf;
    };
    const [a, again] = await Promise.all([renderer.png('a', load), renderer.png('a', load)]);
    expect(a!.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(Math.max(...dimensions(a!))).toBe(300);
    expect(again).toBe(a);
    expect(loads).toBe(1); // two requests at once share one rendering
    await renderer.png('a', load);
    expect(loads).toBe(1); // from the cache
    await renderer.png('b', load);
    await renderer.png('c', load); // 'a' is the least recently used: dropped
    expect(loads).toBe(3);
    await renderer.png('c', load);
    expect(loads).toBe(3);
    await renderer.png('a', load);
    expect(loads).toBe(4);
  });

  it('answers undefined without a PDF, and fails (not hangs) when the tool fails or is missing', async () => {
    const renderer = new LicenseFaceRenderer();
    expect(await renderer.png('none', async () => undefined)).toBeUndefined();
    await expect(renderer.png('garbage', async () => Buffer.from('not a pdf'))).rejects.toBeInstanceOf(FaceRenderFailed);
    const missing = new LicenseFaceRenderer({ command: 'no-such-renderer-command' });
    await expect(missing.png('x', async () => makePdf(1))).rejects.toBeInstanceOf(FaceRenderFailed);
  });

  it('refuses renderings beyond the waiting limit', async () => {
    const renderer = new LicenseFaceRenderer({ maxWaiting: 1 });
    let release!: (pdf: Buffer) => void;
    const held = renderer.png('slow', () => new Promise<Buffer>((resolve) => (release = resolve)));
    await expect(renderer.png('other', async () => makePdf(1))).rejects.toBeInstanceOf(FaceRendererBusy);
    release(await makePdf(1));
    expect((await held)!.length).toBeGreaterThan(100);
  });
});
