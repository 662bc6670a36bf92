import { deflateSync } from 'node:zlib';
import { createCanvas, ImageData, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { renderSealPng } from '../../src/seals/image.js';
import { decodePng, MAX_PNG_PIXELS, PngError, type DecodedPng } from '../../src/seals/png.js';

// --- a small PNG encoder of our own, to make every kind of PNG the decoder must read ----------

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function crc(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc(body), 4 + body.length);
  return out;
}

function ihdr(width: number, height: number, bitDepth: number, colorType: number, interlace = 0): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = bitDepth;
  d[9] = colorType;
  d[12] = interlace;
  return chunk('IHDR', d);
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Packs one row of samples at the bit depth, most significant bits first. */
function packRow(samples: number[], bitDepth: number): Buffer {
  const out = Buffer.alloc(Math.ceil((samples.length * bitDepth) / 8));
  samples.forEach((v, i) => {
    if (bitDepth === 16) out.writeUInt16BE(v, 2 * i);
    else if (bitDepth === 8) out[i] = v;
    else {
      const bit = i * bitDepth;
      out[bit >> 3]! |= v << (8 - bitDepth - (bit & 7));
    }
  });
  return out;
}

/** The PNG filters, applied forwards: each predictor reads the unfiltered bytes. */
function filterRow(type: number, row: Buffer, prev: Buffer | null, bpp: number): Buffer {
  const out = Buffer.alloc(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = prev ? prev[i]! : 0;
    const c = prev && i >= bpp ? prev[i - bpp]! : 0;
    let predictor = 0;
    if (type === 1) predictor = a;
    else if (type === 2) predictor = b;
    else if (type === 3) predictor = Math.floor((a + b) / 2);
    else if (type === 4) {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    out[i + 1] = (row[i]! - predictor) & 0xff;
  }
  return out;
}

interface Image {
  width: number;
  height: number;
  colorType: number;
  bitDepth: number;
  /** samples[y][x * channels + k] */
  samples: number[][];
  palette?: Buffer;
  trns?: Buffer;
}

function encode(img: Image, opts: { filter?: (y: number) => number; idatPieces?: number; before?: Buffer[] } = {}): Buffer {
  const bpp = Math.max(1, (CHANNELS[img.colorType]! * img.bitDepth) >> 3);
  let prev: Buffer | null = null;
  const filtered: Buffer[] = [];
  img.samples.forEach((samples, y) => {
    const row = packRow(samples, img.bitDepth);
    filtered.push(filterRow(opts.filter ? opts.filter(y) : y % 5, row, prev, bpp));
    prev = row;
  });
  const data = deflateSync(Buffer.concat(filtered));
  const pieces = opts.idatPieces ?? 1;
  const idat: Buffer[] = [];
  const size = Math.ceil(data.length / pieces);
  for (let i = 0; i < data.length; i += size) idat.push(chunk('IDAT', data.subarray(i, i + size)));
  return Buffer.concat([
    SIGNATURE,
    ihdr(img.width, img.height, img.bitDepth, img.colorType),
    ...(opts.before ?? []),
    ...(img.palette ? [chunk('PLTE', img.palette)] : []),
    ...(img.trns ? [chunk('tRNS', img.trns)] : []),
    ...idat,
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random image; smooth in places so that every filter has something to predict. */
function randomImage(colorType: number, bitDepth: number, width: number, height: number, seed: number, paletteSize = 0): Image {
  const rnd = random(seed);
  const max = 2 ** bitDepth - 1;
  const top = colorType === 3 ? paletteSize - 1 : max;
  const samples = Array.from({ length: height }, (_, y) =>
    Array.from({ length: width * CHANNELS[colorType]! }, (_, i) => (rnd() < 0.5 ? Math.floor(rnd() * (top + 1)) : Math.round(((y + i) % 7) * (top / 6)))),
  );
  return { width, height, colorType, bitDepth, samples };
}

/** What the decoder must give for an image, computed from its samples. */
function expected(img: Image): { rgb: Buffer; alpha: Buffer } {
  const n = img.width * img.height;
  const rgb = Buffer.alloc(n * 3);
  const alpha = Buffer.alloc(n, 255);
  const max = 2 ** img.bitDepth - 1;
  const to8 = (v: number): number => (img.bitDepth === 16 ? v >> 8 : Math.round((v * 255) / max));
  const ch = CHANNELS[img.colorType]!;
  const key = img.trns && img.colorType !== 3 ? Array.from({ length: img.trns.length / 2 }, (_, i) => img.trns!.readUInt16BE(2 * i)) : null;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const p = y * img.width + x;
      const s = img.samples[y]!.slice(x * ch, x * ch + ch);
      let color: number[];
      if (img.colorType === 3) {
        const i = s[0]!;
        color = [img.palette![3 * i]!, img.palette![3 * i + 1]!, img.palette![3 * i + 2]!];
        if (img.trns && i < img.trns.length) alpha[p] = img.trns[i]!;
      } else {
        const grey = img.colorType === 0 || img.colorType === 4;
        color = (grey ? [s[0]!, s[0]!, s[0]!] : s.slice(0, 3)).map(to8);
        if (img.colorType === 4) alpha[p] = to8(s[1]!);
        if (img.colorType === 6) alpha[p] = to8(s[3]!);
        if (key && s.slice(0, key.length).every((v, k) => v === key[k])) alpha[p] = 0;
      }
      rgb.set(color, 3 * p);
    }
  }
  return { rgb, alpha };
}

/** The pixels of a decoded image as the canvas holds them, next to the canvas's own decoding. */
async function againstCanvas(png: Buffer, decoded: DecodedPng): Promise<{ ours: Uint8ClampedArray; theirs: Uint8ClampedArray }> {
  const { width, height } = decoded;
  const image = await loadImage(png);
  const a = createCanvas(width, height).getContext('2d');
  a.drawImage(image, 0, 0);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[4 * p] = decoded.rgb[3 * p]!;
    rgba[4 * p + 1] = decoded.rgb[3 * p + 1]!;
    rgba[4 * p + 2] = decoded.rgb[3 * p + 2]!;
    rgba[4 * p + 3] = decoded.alpha ? decoded.alpha[p]! : 255;
  }
  // through the same premultiplied canvas, so that both sides round alike
  const b = createCanvas(width, height).getContext('2d');
  b.putImageData(new ImageData(rgba, width, height), 0, 0);
  return { ours: b.getImageData(0, 0, width, height).data, theirs: a.getImageData(0, 0, width, height).data };
}

function countDifferences(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

const PALETTE = Buffer.from([0, 0, 0, 255, 255, 255, 230, 0, 18, 10, 200, 30, 7, 8, 9, 100, 150, 250, 1, 2, 3, 250, 128, 0, 44, 55, 66, 90, 80, 70, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]);

// ------------------------------------------------------------------------------------------------

describe('decodePng', () => {
  it('decodes the seal PNG exactly as the canvas decodes it', async () => {
    const png = renderSealPng({ orgName: '某某市市场监督管理局', purpose: '审批专用章', sealCode: '3301020012345', diameterMm: 40 });
    const decoded = decodePng(png);
    expect([decoded.width, decoded.height]).toEqual([480, 480]);
    expect(decoded.rgb.length).toBe(480 * 480 * 3);
    expect(decoded.alpha).not.toBeNull();
    expect(decoded.alpha!.length).toBe(480 * 480);
    expect(decoded.alpha![0]).toBe(0); // a transparent corner
    const { ours, theirs } = await againstCanvas(png, decoded);
    expect(countDifferences(ours, theirs)).toBe(0);
    // and the opaque pixels are the seal red, unchanged by any premultiplication
    const centre = 240 * 480 + 240;
    expect(decoded.alpha![centre]).toBe(255);
    expect([...decoded.rgb.subarray(3 * centre, 3 * centre + 3)]).toEqual([230, 0, 18]);
  });

  const formats: Array<[number, number]> = [
    [0, 1], [0, 2], [0, 4], [0, 8], [0, 16],
    [2, 8], [2, 16],
    [3, 1], [3, 2], [3, 4], [3, 8],
    [4, 8], [4, 16],
    [6, 8], [6, 16],
  ];
  it.each(formats)('decodes colour type %i at bit depth %i with all five filters, as the canvas does', async (colorType, bitDepth) => {
    const paletteSize = colorType === 3 ? Math.min(16, 2 ** bitDepth) : 0;
    const img = randomImage(colorType, bitDepth, 37, 23, colorType * 100 + bitDepth, paletteSize);
    if (colorType === 3) img.palette = PALETTE.subarray(0, 3 * paletteSize);
    const rnd = random(bitDepth);
    const png = encode(img, { filter: (y) => (y < 5 ? y : Math.floor(rnd() * 5)), idatPieces: 3 });
    const decoded = decodePng(png);
    const want = expected(img);
    expect(decoded.width).toBe(37);
    expect(decoded.height).toBe(23);
    expect(decoded.rgb.equals(want.rgb)).toBe(true);
    const transparent = colorType === 4 || colorType === 6;
    if (transparent) expect(decoded.alpha!.equals(want.alpha)).toBe(true);
    else expect(decoded.alpha).toBeNull();
    const { ours, theirs } = await againstCanvas(png, decoded);
    expect(countDifferences(ours, theirs)).toBe(0);
  });

  it.each([0, 1, 2, 3, 4])('undoes filter type %i on every row of a larger image, ties of Paeth included', async (filter) => {
    const rnd = random(1000 + filter);
    const img: Image = {
      width: 64,
      height: 48,
      colorType: 2,
      bitDepth: 8,
      samples: Array.from({ length: 48 }, () => Array.from({ length: 64 * 3 }, () => Math.floor(rnd() * 256))),
    };
    const png = encode(img, { filter: () => filter });
    const decoded = decodePng(png);
    expect(decoded.rgb.equals(expected(img).rgb)).toBe(true);
    const { ours, theirs } = await againstCanvas(png, decoded);
    expect(countDifferences(ours, theirs)).toBe(0);
  });

  it('gives no soft mask for an opaque RGB image, nor for RGBA that is all opaque', () => {
    const rgb = randomImage(2, 8, 16, 9, 7);
    const decoded = decodePng(encode(rgb));
    expect(decoded.alpha).toBeNull();
    expect(decoded.rgb.equals(expected(rgb).rgb)).toBe(true);

    const rgba = randomImage(6, 8, 16, 9, 8);
    rgba.samples.forEach((row) => row.forEach((_, i) => (i % 4 === 3 ? (row[i] = 255) : 0)));
    expect(decodePng(encode(rgba)).alpha).toBeNull();

    const canvas = createCanvas(40, 30);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, 40, 30);
    ctx.fillStyle = 'rgb(230, 0, 18)';
    ctx.fillRect(10, 10, 20, 10);
    const fromCanvas = decodePng(canvas.toBuffer('image/png'));
    expect(fromCanvas.alpha).toBeNull();
    const p = 15 * 40 + 20;
    expect([...fromCanvas.rgb.subarray(3 * p, 3 * p + 3)]).toEqual([230, 0, 18]);
    expect([...fromCanvas.rgb.subarray(0, 3)]).toEqual([255, 255, 255]);
  });

  it('turns a palette with tRNS into a soft mask, entries past tRNS opaque', async () => {
    const img = randomImage(3, 4, 19, 11, 3, 6);
    img.palette = PALETTE.subarray(0, 18);
    img.trns = Buffer.from([0, 128, 255]); // entries 3 to 5 are opaque
    img.samples[0]![0] = 0;
    img.samples[0]![1] = 1;
    img.samples[0]![2] = 4;
    const png = encode(img);
    const decoded = decodePng(png);
    expect(decoded.alpha).not.toBeNull();
    expect([...decoded.alpha!.subarray(0, 3)]).toEqual([0, 128, 255]);
    expect(decoded.alpha!.equals(expected(img).alpha)).toBe(true);
    expect([...decoded.rgb.subarray(3, 6)]).toEqual([255, 255, 255]);
    const { ours, theirs } = await againstCanvas(png, decoded);
    expect(countDifferences(ours, theirs)).toBe(0);
  });

  it('turns a grey or RGB colour key (tRNS) into a soft mask', async () => {
    const grey = randomImage(0, 16, 9, 9, 11);
    grey.trns = Buffer.alloc(2);
    grey.trns.writeUInt16BE(grey.samples[2]![3]!);
    const greyPng = encode(grey);
    const g = decodePng(greyPng);
    expect(g.alpha![2 * 9 + 3]).toBe(0);
    expect(g.alpha!.equals(expected(grey).alpha)).toBe(true);
    const greyPixels = await againstCanvas(greyPng, g);
    expect(countDifferences(greyPixels.ours, greyPixels.theirs)).toBe(0);

    const rgb = randomImage(2, 8, 9, 9, 12);
    rgb.samples[4]!.splice(0, 3, 1, 2, 3);
    rgb.trns = Buffer.from([0, 1, 0, 2, 0, 3]);
    const rgbPng = encode(rgb);
    const c = decodePng(rgbPng);
    expect(c.alpha![4 * 9]).toBe(0);
    expect(c.alpha!.equals(expected(rgb).alpha)).toBe(true);
    const rgbPixels = await againstCanvas(rgbPng, c);
    expect(countDifferences(rgbPixels.ours, rgbPixels.theirs)).toBe(0);
  });

  it('skips ancillary chunks it does not know', () => {
    const img = randomImage(6, 8, 5, 5, 1);
    const png = encode(img, { before: [chunk('tEXt', Buffer.from('Title\0seal')), chunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])), chunk('prVt', Buffer.from('x'))] });
    expect(decodePng(png).rgb.equals(expected(img).rgb)).toBe(true);
  });
});

describe('decodePng rejects', () => {
  const small = encode(randomImage(6, 8, 12, 10, 5));
  const png = (...chunks: Buffer[]): Buffer => Buffer.concat([SIGNATURE, ...chunks]);
  const iend = chunk('IEND', Buffer.alloc(0));

  it('what is not a PNG', () => {
    for (const input of [Buffer.alloc(0), Buffer.from('GIF89a........'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), Buffer.from('%PDF-1.7\n'), SIGNATURE.subarray(0, 7)]) {
      expect(() => decodePng(input)).toThrow(PngError);
      expect(() => decodePng(input)).toThrow(/not a PNG/);
    }
  });

  it('every truncation of a valid PNG', () => {
    expect(() => decodePng(small)).not.toThrow();
    for (let length = 8; length < small.length; length++) {
      expect(() => decodePng(small.subarray(0, length)), `${length} bytes`).toThrow(/truncated PNG/);
    }
    expect(() => decodePng(small.subarray(0, 8))).toThrow(PngError);
  });

  it('a bad CRC in any chunk', () => {
    for (const at of [20, 45, small.length - 20, small.length - 2]) {
      const damaged = Buffer.from(small);
      damaged[at]! ^= 0x10;
      expect(() => decodePng(damaged), `byte ${at}`).toThrow(/bad CRC in the (IHDR|IDAT|IEND) chunk/);
    }
  });

  it('images over 25 megapixels before inflating anything', () => {
    const bomb = png(ihdr(5001, 5000, 8, 6), chunk('IDAT', Buffer.from('not even zlib')), iend);
    expect(() => decodePng(bomb)).toThrow(/too large: 5001x5000 pixels/);
    expect(5001 * 5000).toBeGreaterThan(MAX_PNG_PIXELS);
    // just under the limit the header is accepted, and only then is the data looked at
    expect(() => decodePng(png(ihdr(5000, 5000, 8, 0), chunk('IDAT', Buffer.from('not even zlib')), iend))).toThrow(/cannot be inflated/);
  });

  it('image data that inflates to more, or less, than the image needs', () => {
    const tooMuch = png(ihdr(10, 10, 8, 2), chunk('IDAT', deflateSync(Buffer.alloc(10_000_000))), iend);
    expect(() => decodePng(tooMuch)).toThrow(/inflates to more than the 310 bytes a 10x10 image needs/);
    const tooLittle = png(ihdr(10, 10, 8, 2), chunk('IDAT', deflateSync(Buffer.alloc(300))), iend);
    expect(() => decodePng(tooLittle)).toThrow(/truncated PNG: the image data has 300 of the 310 bytes/);
    const cut = deflateSync(Buffer.alloc(310, 1));
    expect(() => decodePng(png(ihdr(10, 10, 8, 2), chunk('IDAT', cut.subarray(0, cut.length - 6)), iend))).toThrow(/truncated PNG: the compressed image data ends early/);
  });

  it('unsupported and invalid formats', () => {
    const data = chunk('IDAT', deflateSync(Buffer.alloc(11 * 4)));
    expect(() => decodePng(png(ihdr(4, 4, 8, 2, 1), data, iend))).toThrow(/unsupported PNG: interlaced/);
    expect(() => decodePng(png(ihdr(4, 4, 16, 3), data, iend))).toThrow(/bit depth 16 is not allowed with colour type 3/);
    expect(() => decodePng(png(ihdr(4, 4, 8, 5), data, iend))).toThrow(/unknown colour type 5/);
    expect(() => decodePng(png(ihdr(0, 4, 8, 2), data, iend))).toThrow(/image size 0x4/);
    expect(() => decodePng(png(ihdr(4, 4, 8, 2), chunk('ABCD', Buffer.alloc(1)), data, iend))).toThrow(/unsupported PNG: unknown critical chunk ABCD/);
    expect(() => decodePng(png(chunk('gAMA', Buffer.alloc(4)), ihdr(4, 4, 8, 2), data, iend))).toThrow(/first chunk is not IHDR/);
    expect(() => decodePng(png(ihdr(4, 4, 8, 3), data, iend))).toThrow(/palette image without PLTE/);
    expect(() => decodePng(png(ihdr(4, 4, 8, 2), iend))).toThrow(/no image data/);
    const badFilter = Buffer.alloc(13 * 4);
    badFilter[13] = 5;
    expect(() => decodePng(png(ihdr(4, 4, 8, 2), chunk('IDAT', deflateSync(badFilter)), iend))).toThrow(/unknown filter type 5 in row 1/);
    const indices = Buffer.from([0, 0, 1, 2, 3]);
    expect(() => decodePng(png(ihdr(4, 1, 8, 3), chunk('PLTE', PALETTE.subarray(0, 9)), chunk('IDAT', deflateSync(indices)), iend))).toThrow(/palette index 3 at \(3, 0\)/);
    expect(() => decodePng(png(ihdr(4, 1, 8, 3), chunk('PLTE', Buffer.alloc(7)), chunk('IDAT', deflateSync(indices)), iend))).toThrow(/a palette of 7 bytes/);
  });

  it('damage anywhere gives a PngError or an image, never another error', () => {
    const rnd = random(42);
    const paletted = randomImage(3, 4, 20, 20, 9, 16);
    paletted.palette = PALETTE;
    paletted.trns = Buffer.from([0, 100]);
    const bases = [encode(paletted, { idatPieces: 2 }), encode(randomImage(6, 16, 15, 12, 10)), encode(randomImage(0, 2, 33, 7, 11))];
    const outcomes = { image: 0, error: 0 };
    for (let i = 0; i < 600; i++) {
      const damaged = Buffer.from(bases[i % bases.length]!);
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) damaged[Math.floor(rnd() * damaged.length)] = Math.floor(rnd() * 256);
      // repair every CRC, so that the damage reaches the parser and the decompressor
      for (let pos = 8; pos + 12 <= damaged.length; ) {
        const length = damaged.readUInt32BE(pos);
        if (pos + 12 + length > damaged.length) break;
        damaged.writeUInt32BE(crc(damaged.subarray(pos + 4, pos + 8 + length)), pos + 8 + length);
        pos += 12 + length;
      }
      try {
        decodePng(damaged);
        outcomes.image++;
      } catch (err) {
        expect(err).toBeInstanceOf(PngError);
        outcomes.error++;
      }
    }
    expect(outcomes.error).toBeGreaterThan(0);
    expect(outcomes.image).toBeGreaterThan(0);
  });
});
