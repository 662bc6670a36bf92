/**
 * A seal's OFD picture drawn: the first page of the package, its PhysicalBox fitted into a
 * transparent canvas of the seal's printed size (centred, not distorted). Text is drawn with the
 * service's Song face whatever font the document names: an embedded font program from outside
 * is not handed to the font engine. Images are PNG, JPEG, GIF or BMP, checked as the raster
 * seal pictures are, and all of them together hold at most MAX_PNG_PIXELS pixels.
 */
import { createCanvas, Path2D, type Canvas, type Image, type SKRSContext2D } from '@napi-rs/canvas';
import { SealInputError } from '../errors.js';
import { sealFontFamily } from '../image.js';
import { MAX_PNG_PIXELS } from '../png.js';
import { checkedRasterSize, decodedImage, sniffRaster } from '../raster-picture.js';
import { readFirstPage, type OfdResources } from './ofd-document.js';
import { OfdError } from './ofd-error.js';
import { multiply, pageOps, type DrawOp, type Matrix, type Rgba, type Stroke } from './ofd-page.js';
import { ZipArchive, type ZipLimits } from './zip-reader.js';

/** A seal's SESeal is at most 8 MB (pki/ses/ses-parse.ts); its OFD picture inflates to a few times that at most. */
export const OFD_ZIP_LIMITS: ZipLimits = { maxEntries: 256, maxEntryBytes: 16 * 1024 * 1024, maxTotalBytes: 32 * 1024 * 1024 };

function css({ r, g, b, a }: Rgba): string {
  return `rgba(${r}, ${g}, ${b}, ${a})`;
}

function scaleOf(m: Matrix): number {
  return Math.sqrt(Math.abs(m[0] * m[3] - m[1] * m[2]));
}

function setStroke(ctx: SKRSContext2D, stroke: Stroke, pxPerUnit: number, pxPerMm: number): void {
  ctx.strokeStyle = css(stroke.color);
  // LineWidth 0 is the thinnest line the device draws
  ctx.lineWidth = Math.max(stroke.width * pxPerMm, 1) / pxPerUnit;
  ctx.lineCap = stroke.cap;
  ctx.lineJoin = stroke.join;
  ctx.miterLimit = Math.max(1, stroke.miterLimit);
  // a dash pattern finer than a pixel would cost one segment per step along the path: drawn solid
  const period = stroke.dash.reduce((sum, d) => sum + d, 0) * pxPerMm;
  ctx.setLineDash(period >= 1 ? stroke.dash.map((d) => (d * pxPerMm) / pxPerUnit) : []);
  ctx.lineDashOffset = (stroke.dashOffset * pxPerMm) / pxPerUnit;
}

class Renderer {
  private readonly images = new Map<string, Image>();
  private pixels = 0;

  constructor(
    private readonly ctx: SKRSContext2D,
    private readonly pageToPx: Matrix,
    private readonly zip: ZipArchive,
    private readonly resources: OfdResources,
    private readonly family: string,
  ) {}

  draw(op: DrawOp): void {
    const { ctx } = this;
    ctx.save();
    ctx.globalAlpha = op.alpha;
    if (op.kind === 'path') this.path(op);
    else if (op.kind === 'text') this.text(op);
    else this.image(op);
    ctx.restore();
  }

  private path(op: Extract<DrawOp, { kind: 'path' }>): void {
    const { ctx } = this;
    ctx.setTransform(...this.pageToPx);
    const path = new Path2D();
    for (const s of op.segments) {
      if (s.op === 'M') path.moveTo(s.x, s.y);
      else if (s.op === 'L') path.lineTo(s.x, s.y);
      else if (s.op === 'Q') path.quadraticCurveTo(...s.pts);
      else if (s.op === 'C') path.bezierCurveTo(...s.pts);
      else path.closePath();
    }
    if (op.fill) {
      ctx.fillStyle = css(op.fill);
      ctx.fill(path, op.evenOdd ? 'evenodd' : 'nonzero');
    }
    if (op.stroke) {
      const scale = scaleOf(this.pageToPx);
      setStroke(ctx, op.stroke, scale, scale);
      ctx.stroke(path);
    }
  }

  private text(op: Extract<DrawOp, { kind: 'text' }>): void {
    const { ctx } = this;
    // glyphs are drawn at 100 px and scaled: the font engine does badly at sizes of a few units
    ctx.font = `${op.bold ? 'bold ' : ''}100px ${this.family}`;
    const angle = (op.rotation * Math.PI) / 180;
    const em = op.size / 100;
    const glyphSpace: Matrix = [Math.cos(angle) * em * op.hScale, Math.sin(angle) * em * op.hScale, -Math.sin(angle) * em, Math.cos(angle) * em, 0, 0];
    const toPx = multiply(this.pageToPx, op.transform);
    for (const glyph of op.glyphs) {
      const m = multiply(multiply(toPx, [1, 0, 0, 1, glyph.x, glyph.y]), glyphSpace);
      ctx.setTransform(...m);
      if (op.fill) {
        ctx.fillStyle = css(op.fill);
        ctx.fillText(glyph.char, 0, 0);
      }
      if (op.stroke) {
        setStroke(ctx, op.stroke, scaleOf(m), scaleOf(this.pageToPx));
        ctx.strokeText(glyph.char, 0, 0);
      }
    }
  }

  private image(op: Extract<DrawOp, { kind: 'image' }>): void {
    const image = this.decoded(op.resource);
    // an image fills the unit square of its object's space (GB/T 33190: its CTM gives it its size)
    this.ctx.setTransform(...multiply(this.pageToPx, op.transform));
    this.ctx.drawImage(image, 0, 0, 1, 1);
  }

  private decoded(resource: string): Image {
    const known = this.images.get(resource);
    if (known) return known;
    const { path } = this.resources.media.get(resource)!;
    const data = this.zip.get(path);
    if (!data) throw new OfdError(`the image ${path} is not in the package`);
    const format = sniffRaster(data);
    if (!format) throw new OfdError(`the image ${path} is neither PNG, JPEG, GIF nor BMP`);
    try {
      const size = checkedRasterSize(format, data);
      this.pixels += size.width * size.height;
      if (this.pixels > MAX_PNG_PIXELS) throw new OfdError(`its images hold more than ${MAX_PNG_PIXELS} pixels together`);
      const image = decodedImage(data);
      this.images.set(resource, image);
      return image;
    } catch (err) {
      if (err instanceof SealInputError) throw new OfdError(`the image ${path}: ${err.message.replace(/^the seal picture:? ?/, '')}`);
      throw err;
    }
  }
}

/** The first page of an OFD package drawn on a transparent canvas of `width` x `height` pixels. */
export function renderOfdPicture(data: Buffer, width: number, height: number): Canvas {
  const zip = new ZipArchive(data, OFD_ZIP_LIMITS);
  const page = readFirstPage(zip);
  const family = sealFontFamily();
  const measure = createCanvas(8, 8).getContext('2d');
  measure.font = `100px ${family}`;
  const advances = new Map<string, number>();
  const advance = (char: string): number => {
    let width = advances.get(char);
    if (width === undefined) advances.set(char, (width = measure.measureText(char).width / 100));
    return width;
  };
  const ops = pageOps(page.content, page.resources, page.defaultColorSpace, advance);
  if (!ops.length) throw new OfdError('its first page has no path, text or image object that draws anything');

  const [x, y, w, h] = page.box;
  const scale = Math.min(width / w, height / h);
  const pageToPx: Matrix = [scale, 0, 0, scale, (width - w * scale) / 2 - x * scale, (height - h * scale) / 2 - y * scale];
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.beginPath();
  ctx.rect(pageToPx[4] + x * scale, pageToPx[5] + y * scale, w * scale, h * scale);
  ctx.clip();
  const renderer = new Renderer(ctx, pageToPx, zip, page.resources, family);
  for (const op of ops) renderer.draw(op);
  return canvas;
}
