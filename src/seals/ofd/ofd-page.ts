/**
 * An OFD page's content as drawing operations in page millimetres (GB/T 33190: origin top left,
 * y down). What seal drawings use is read: path objects (the AbbreviatedData commands S/M, L, Q,
 * B, A, C and Z), text objects (TextCode positions with DeltaX/DeltaY, per-object CTM) and image
 * objects, inside layers and page blocks. Any other object (composite objects, video) is skipped.
 * An object's Boundary places its own coordinate space on the page and its CTM applies within
 * it. Line widths are in page millimetres, not scaled by the CTM (the standard is silent; the
 * common readers draw them so). Clipping areas, shadings, patterns and templates are not drawn.
 * Every count is bounded: objects, path commands, characters, images.
 */
import { OfdError } from './ofd-error.js';
import type { OfdResources } from './ofd-document.js';
import { child, childrenNamed, type XmlElement } from './xml.js';

export const PAGE_LIMITS = { maxObjects: 10_000, maxPathCommands: 100_000, maxTextCodes: 10_000, maxCharacters: 10_000, maxImages: 64 };

/** [a b c d e f]: x' = a x + c y + e, y' = b x + d y + f, as OFD and PDF write a CTM. */
export type Matrix = [number, number, number, number, number, number];

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0 to 1. */
  a: number;
}

export interface Stroke {
  color: Rgba;
  width: number;
  cap: 'butt' | 'round' | 'square';
  join: 'miter' | 'round' | 'bevel';
  miterLimit: number;
  dash: number[];
  dashOffset: number;
}

/** One path segment in page millimetres. */
export type Segment = { op: 'M' | 'L'; x: number; y: number } | { op: 'Q'; pts: [number, number, number, number] } | { op: 'C'; pts: [number, number, number, number, number, number] } | { op: 'Z' };

export type DrawOp =
  | { kind: 'path'; segments: Segment[]; fill: Rgba | null; evenOdd: boolean; stroke: Stroke | null; alpha: number }
  | { kind: 'text'; transform: Matrix; size: number; hScale: number; rotation: number; bold: boolean; glyphs: Glyph[]; fill: Rgba | null; stroke: Stroke | null; alpha: number }
  | { kind: 'image'; transform: Matrix; resource: string; alpha: number };

/** A character at its baseline origin, in the text object's own coordinates. */
export interface Glyph {
  char: string;
  x: number;
  y: number;
}

const CAPS: Record<string, Stroke['cap']> = { Round: 'round', Square: 'square' };
const JOINS: Record<string, Stroke['join']> = { Round: 'round', Bevel: 'bevel' };
const MAX_COORDINATE = 1e6;

export function multiply(outer: Matrix, inner: Matrix): Matrix {
  const [a, b, c, d, e, f] = outer;
  const [A, B, C, D, E, F] = inner;
  return [a * A + c * B, b * A + d * B, a * C + c * D, b * C + d * D, a * E + c * F + e, b * E + d * F + f];
}

export function apply(m: Matrix, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

function numbers(text: string, what: string): number[] {
  const values = text.trim() ? text.trim().split(/[\s,]+/).map(Number) : [];
  if (!values.every((v) => Number.isFinite(v) && Math.abs(v) <= MAX_COORDINATE)) throw new OfdError(`${what} "${text.slice(0, 80)}" has a value that is not a number of sensible size`);
  return values;
}

function number(text: string | undefined, fallback: number, what: string, min = -MAX_COORDINATE, max = MAX_COORDINATE): number {
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new OfdError(`${what} "${text.slice(0, 40)}" is not a number between ${min} and ${max}`);
  return value;
}

function flag(text: string | undefined, fallback: boolean): boolean {
  return text === undefined ? fallback : text.trim() === 'true';
}

/** Repeated values written "g count value" (DeltaX, DeltaY), expanded only as far as needed. */
function deltas(text: string | undefined, needed: number, what: string): number[] {
  const tokens = (text ?? '').trim().split(/\s+/).filter(Boolean);
  const out: number[] = [];
  for (let i = 0; i < tokens.length && out.length < needed; i++) {
    if (tokens[i] === 'g') {
      const count = number(tokens[i + 1], NaN, `${what} repetition count`, 0, MAX_COORDINATE);
      const value = number(tokens[i + 2], NaN, what);
      for (let k = 0; k < count && out.length < needed; k++) out.push(value);
      i += 2;
    } else {
      out.push(number(tokens[i], NaN, what));
    }
  }
  return out;
}

/**
 * Arc from the current point, as SVG and OFD define it (rx ry x-axis-angle large-arc sweep x y),
 * as cubic Béziers: the centre from the end points (SVG 1.1, appendix F.6.5), then one curve per
 * quarter turn at most.
 */
function arcToCubics(x1: number, y1: number, rxIn: number, ryIn: number, angleDeg: number, large: boolean, sweep: boolean, x2: number, y2: number): Array<[number, number, number, number, number, number]> {
  let rx = Math.abs(rxIn);
  let ry = Math.abs(ryIn);
  if ((x1 === x2 && y1 === y2) || rx === 0 || ry === 0) return [[x1, y1, x2, y2, x2, y2]];
  const phi = (angleDeg * Math.PI) / 180;
  const [cos, sin] = [Math.cos(phi), Math.sin(phi)];
  const dx = (x1 - x2) / 2;
  const dy = (y1 - y2) / 2;
  const xp = cos * dx + sin * dy;
  const yp = -sin * dx + cos * dy;
  const grow = (xp * xp) / (rx * rx) + (yp * yp) / (ry * ry);
  if (grow > 1) {
    rx *= Math.sqrt(grow);
    ry *= Math.sqrt(grow);
  }
  const num = rx * rx * ry * ry - rx * rx * yp * yp - ry * ry * xp * xp;
  const den = rx * rx * yp * yp + ry * ry * xp * xp;
  const k = (large === sweep ? -1 : 1) * Math.sqrt(Math.max(0, num / den));
  const cxp = (k * rx * yp) / ry;
  const cyp = (-k * ry * xp) / rx;
  const cx = cos * cxp - sin * cyp + (x1 + x2) / 2;
  const cy = sin * cxp + cos * cyp + (y1 + y2) / 2;
  const angle = (ux: number, uy: number, vx: number, vy: number): number => Math.atan2(ux * vy - uy * vx, ux * vx + uy * vy);
  const start = angle(1, 0, (xp - cxp) / rx, (yp - cyp) / ry);
  let delta = angle((xp - cxp) / rx, (yp - cyp) / ry, (-xp - cxp) / rx, (-yp - cyp) / ry);
  if (!sweep && delta > 0) delta -= 2 * Math.PI;
  if (sweep && delta < 0) delta += 2 * Math.PI;
  const parts = Math.max(1, Math.ceil(Math.abs(delta) / (Math.PI / 2) - 1e-9));
  const step = delta / parts;
  const t = (4 / 3) * Math.tan(step / 4);
  const point = (a: number): [number, number] => [cx + rx * Math.cos(a) * cos - ry * Math.sin(a) * sin, cy + rx * Math.cos(a) * sin + ry * Math.sin(a) * cos];
  const tangent = (a: number): [number, number] => [-rx * Math.sin(a) * cos - ry * Math.cos(a) * sin, -rx * Math.sin(a) * sin + ry * Math.cos(a) * cos];
  const curves: Array<[number, number, number, number, number, number]> = [];
  for (let i = 0; i < parts; i++) {
    const a0 = start + i * step;
    const a1 = a0 + step;
    const [p0x, p0y] = point(a0);
    const [p1x, p1y] = i === parts - 1 ? [x2, y2] : point(a1);
    const [t0x, t0y] = tangent(a0);
    const [t1x, t1y] = tangent(a1);
    curves.push([p0x + t * t0x, p0y + t * t0y, p1x - t * t1x, p1y - t * t1y, p1x, p1y]);
  }
  return curves;
}

/** Reads a page's content, counting towards the limits over the whole page; `advance` is a character's width per em. */
class PageReader {
  readonly ops: DrawOp[] = [];
  private objects = 0;
  private commands = 0;
  private textCodes = 0;
  private characters = 0;
  private images = 0;

  constructor(
    private readonly resources: OfdResources,
    private readonly defaultColorSpace: string | null,
    private readonly advance: (char: string) => number,
  ) {}

  private color(element: XmlElement | undefined, fallback: Rgba | null): Rgba | null {
    if (!element) return fallback;
    const space = this.resources.colorSpaces.get(element.attributes.ColorSpace ?? this.defaultColorSpace ?? '') ?? { type: 'RGB', bitsPerComponent: 8 };
    const max = 2 ** Math.min(16, Math.max(1, space.bitsPerComponent || 8)) - 1;
    const alpha = number(element.attributes.Alpha, 255, 'a colour Alpha', 0, 255) / 255;
    const raw = (element.attributes.Value ?? '').trim();
    if (!raw) return { r: 0, g: 0, b: 0, a: alpha };
    const values = raw.split(/\s+/).map((v) => (v.startsWith('#') ? Number.parseInt(v.slice(1), 16) : Number(v)));
    if (!values.every((v) => Number.isFinite(v))) throw new OfdError(`the colour value "${raw.slice(0, 40)}" is not numbers`);
    const c = values.map((v) => Math.min(255, Math.max(0, Math.round((v / max) * 255))));
    if (space.type === 'GRAY' && c.length >= 1) return { r: c[0]!, g: c[0]!, b: c[0]!, a: alpha };
    if (space.type === 'CMYK' && c.length >= 4) {
      const [cy, m, y, k] = c.map((v) => v / 255) as [number, number, number, number];
      return { r: Math.round(255 * (1 - cy) * (1 - k)), g: Math.round(255 * (1 - m) * (1 - k)), b: Math.round(255 * (1 - y) * (1 - k)), a: alpha };
    }
    if (c.length >= 3) return { r: c[0]!, g: c[1]!, b: c[2]!, a: alpha };
    throw new OfdError(`the colour value "${raw.slice(0, 40)}" does not fit its colour space ${space.type}`);
  }

  /**
   * The draw parameter the object (else its layer) names, then those it is Relative to: what the
   * object leaves out (line width, colours...) is taken from the first of them that has it.
   */
  private drawParam(object: XmlElement, inherited: string | undefined): XmlElement[] {
    const chain: XmlElement[] = [];
    let id = object.attributes.DrawParam ?? inherited;
    while (id && chain.length < 8) {
      const param = this.resources.drawParams.get(id);
      if (!param || chain.includes(param)) break;
      chain.push(param);
      id = param.attributes.Relative;
    }
    return chain;
  }

  private stroke(object: XmlElement, params: XmlElement[], defaultColor: Rgba | null): Stroke | null {
    const attr = (name: string): string | undefined => object.attributes[name] ?? params.find((p) => p.attributes[name] !== undefined)?.attributes[name];
    const colorElement = child(object, 'StrokeColor') ?? params.map((p) => child(p, 'StrokeColor')).find(Boolean);
    const color = this.color(colorElement, defaultColor);
    if (!color) return null;
    const dash = attr('DashPattern') ? numbers(attr('DashPattern')!, 'a DashPattern').slice(0, 64) : [];
    return {
      color,
      width: number(attr('LineWidth'), 0.353, 'a LineWidth', 0, 1000),
      cap: CAPS[attr('Cap') ?? ''] ?? 'butt',
      join: JOINS[attr('Join') ?? ''] ?? 'miter',
      miterLimit: number(attr('MiterLimit'), 3.528, 'a MiterLimit', 0, 1000),
      dash: dash.every((d) => d >= 0) && dash.reduce((s, d) => s + d, 0) > 0 ? dash : [],
      dashOffset: number(attr('DashOffset'), 0, 'a DashOffset'),
    };
  }

  /** Boundary origin, then the CTM within it. */
  private placement(object: XmlElement): Matrix {
    const boundary = numbers(object.attributes.Boundary ?? '', 'a Boundary');
    if (boundary.length !== 4) throw new OfdError(`the ${object.name} has no Boundary of four numbers`);
    const at: Matrix = [1, 0, 0, 1, boundary[0]!, boundary[1]!];
    if (object.attributes.CTM === undefined) return at;
    const ctm = numbers(object.attributes.CTM, 'a CTM');
    if (ctm.length !== 6) throw new OfdError(`the CTM "${object.attributes.CTM.slice(0, 80)}" is not six numbers`);
    return multiply(at, ctm as Matrix);
  }

  private path(object: XmlElement, layerParam: string | undefined): void {
    const params = this.drawParam(object, layerParam);
    const m = this.placement(object);
    const data = child(object, 'AbbreviatedData')?.text ?? '';
    const segments: Segment[] = [];
    const tokens = /([A-Za-z])|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/g;
    let command = '';
    let args: number[] = [];
    let [cx, cy, sx, sy] = [0, 0, 0, 0];
    let started = false;
    const arity: Record<string, number> = { S: 2, M: 2, L: 2, Q: 4, B: 6, A: 7, C: 0, Z: 0 };
    const point = (x: number, y: number): [number, number] => apply(m, x, y);
    const run = (): void => {
      if (++this.commands > PAGE_LIMITS.maxPathCommands) throw new OfdError(`the page has more than ${PAGE_LIMITS.maxPathCommands} path commands`);
      const a = args;
      if (Math.max(...a.map(Math.abs), 0) > MAX_COORDINATE) throw new OfdError(`the path data has a coordinate beyond ${MAX_COORDINATE}`);
      if (command === 'C' || command === 'Z') {
        if (started) segments.push({ op: 'Z' });
        [cx, cy] = [sx, sy];
        return;
      }
      if (command === 'S' || command === 'M' || !started) {
        const [x, y] = command === 'S' || command === 'M' ? [a[0]!, a[1]!] : [cx, cy];
        segments.push({ op: 'M', ...xy(point(x, y)) });
        [cx, cy, sx, sy] = [x, y, x, y];
        started = true;
        if (command === 'S' || command === 'M') return;
      }
      if (command === 'L') {
        segments.push({ op: 'L', ...xy(point(a[0]!, a[1]!)) });
        [cx, cy] = [a[0]!, a[1]!];
      } else if (command === 'Q') {
        segments.push({ op: 'Q', pts: [...point(a[0]!, a[1]!), ...point(a[2]!, a[3]!)] });
        [cx, cy] = [a[2]!, a[3]!];
      } else if (command === 'B') {
        segments.push({ op: 'C', pts: [...point(a[0]!, a[1]!), ...point(a[2]!, a[3]!), ...point(a[4]!, a[5]!)] });
        [cx, cy] = [a[4]!, a[5]!];
      } else if (command === 'A') {
        for (const c of arcToCubics(cx, cy, a[0]!, a[1]!, a[2]!, a[3] !== 0, a[4] !== 0, a[5]!, a[6]!)) {
          segments.push({ op: 'C', pts: [...point(c[0], c[1]), ...point(c[2], c[3]), ...point(c[4], c[5])] });
        }
        [cx, cy] = [a[5]!, a[6]!];
      }
    };
    for (let match = tokens.exec(data); match; match = tokens.exec(data)) {
      if (match[1]) {
        if (command && args.length) throw new OfdError(`the path command ${command} has ${args.length} numbers left over`);
        command = match[1];
        if (arity[command] === undefined) throw new OfdError(`the path data has an unknown command ${command}`);
        args = [];
        if (arity[command] === 0) {
          run();
          command = '';
        }
      } else {
        if (!command) throw new OfdError('the path data has numbers before any command');
        args.push(Number(match[2]));
        // a command's numbers may repeat without the letter, as in SVG
        if (args.length === arity[command]) {
          run();
          args = [];
        }
      }
    }
    if (command && args.length) throw new OfdError(`the path command ${command} lacks numbers`);
    if (!segments.length) return;
    const fill = flag(object.attributes.Fill, false) ? this.color(child(object, 'FillColor') ?? params.map((p) => child(p, 'FillColor')).find(Boolean), null) : null;
    const stroke = flag(object.attributes.Stroke, true) ? this.stroke(object, params, { r: 0, g: 0, b: 0, a: 1 }) : null;
    if (!fill && !stroke) return;
    this.ops.push({ kind: 'path', segments, fill, evenOdd: object.attributes.Rule === 'Even-Odd', stroke, alpha: this.alpha(object) });
  }

  private alpha(object: XmlElement): number {
    return number(object.attributes.Alpha, 255, 'an object Alpha', 0, 255) / 255;
  }

  private text(object: XmlElement, layerParam: string | undefined): void {
    const params = this.drawParam(object, layerParam);
    if (object.attributes.Size === undefined) throw new OfdError('a text object has no Size');
    const size = number(object.attributes.Size, NaN, 'a text Size', 0.01, 1000);
    const hScale = number(object.attributes.HScale, 1, 'an HScale', 0.01, 100);
    const glyphs: Glyph[] = [];
    let [x, y] = [0, 0];
    for (const code of childrenNamed(object, 'TextCode')) {
      if (++this.textCodes > PAGE_LIMITS.maxTextCodes) throw new OfdError(`the page has more than ${PAGE_LIMITS.maxTextCodes} TextCode elements`);
      const chars = [...code.text.replace(/[\r\n\t]/g, '')];
      this.characters += chars.length;
      if (this.characters > PAGE_LIMITS.maxCharacters) throw new OfdError(`the page has more than ${PAGE_LIMITS.maxCharacters} characters of text`);
      x = number(code.attributes.X, x, 'a TextCode X');
      y = number(code.attributes.Y, y, 'a TextCode Y');
      const dx = deltas(code.attributes.DeltaX, chars.length - 1, 'a DeltaX');
      const dy = deltas(code.attributes.DeltaY, chars.length - 1, 'a DeltaY');
      let [gx, gy] = [x, y];
      chars.forEach((char, i) => {
        glyphs.push({ char, x: gx, y: gy });
        gx += dx[i] ?? this.advance(char) * size * hScale;
        gy += dy[i] ?? 0;
      });
    }
    if (!glyphs.length) return;
    const fill = flag(object.attributes.Fill, true) ? this.color(child(object, 'FillColor') ?? params.map((p) => child(p, 'FillColor')).find(Boolean), { r: 0, g: 0, b: 0, a: 1 }) : null;
    const stroke = flag(object.attributes.Stroke, false) ? this.stroke(object, params, null) : null;
    if (!fill && !stroke) return;
    this.ops.push({
      kind: 'text',
      transform: this.placement(object),
      size,
      hScale,
      rotation: number(object.attributes.CharDirection, 0, 'a CharDirection', 0, 360),
      bold: number(object.attributes.Weight, 400, 'a Weight', 0, 1000) >= 700,
      glyphs,
      fill,
      stroke,
      alpha: this.alpha(object),
    });
  }

  private image(object: XmlElement): void {
    if (++this.images > PAGE_LIMITS.maxImages) throw new OfdError(`the page has more than ${PAGE_LIMITS.maxImages} image objects`);
    const resource = object.attributes.ResourceID ?? '';
    if (!this.resources.media.has(resource)) throw new OfdError(`an image object refers to the resource ${resource || '(none)'}, which no resource file lists`);
    this.ops.push({ kind: 'image', transform: this.placement(object), resource, alpha: this.alpha(object) });
  }

  read(container: XmlElement, layerParam: string | undefined): void {
    for (const object of container.children) {
      if (++this.objects > PAGE_LIMITS.maxObjects) throw new OfdError(`the page has more than ${PAGE_LIMITS.maxObjects} objects`);
      if (object.attributes.Visible === 'false') continue;
      if (object.name === 'Layer' || object.name === 'PageBlock') this.read(object, object.attributes.DrawParam ?? layerParam);
      else if (object.name === 'PathObject') this.path(object, layerParam);
      else if (object.name === 'TextObject') this.text(object, layerParam);
      else if (object.name === 'ImageObject') this.image(object);
    }
  }
}

function xy([x, y]: [number, number]): { x: number; y: number } {
  return { x, y };
}

/** The page content's drawing operations, in page millimetres, in drawing order. */
export function pageOps(content: XmlElement, resources: OfdResources, defaultColorSpace: string | null, advance: (char: string) => number): DrawOp[] {
  const reader = new PageReader(resources, defaultColorSpace, advance);
  reader.read(content, undefined);
  return reader.ops;
}
