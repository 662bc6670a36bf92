import { SEAL_DIAMETER_MM, SEAL_PURPOSE, type SealType } from './seal-types.js';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { loadSongFontSync } from '../render/fonts.js';

/**
 * The visible e-seal: a red round seal drawn the way Chinese government seals are made (State
 * Council rules of 1999, GA 241 for the seal code) and rendered as a PNG with a transparent
 * background, ready to be stamped on a PDF page.
 *
 *   - a thick red outer ring;
 *   - a solid five-pointed star in the centre, one point up, about a third of the diameter wide
 *     (14 mm on a 42 mm seal);
 *   - the organisation name along the upper rim, left to right (clockwise), each character
 *     upright relative to the centre (its foot towards the centre), evenly spread over an arc
 *     of 210 to 250 degrees that grows with the length of the name; long names are narrowed,
 *     as seal engravers do, and very long ones (over 14 characters) also set smaller; names of
 *     four characters or fewer keep a natural spacing instead of being scattered over 210°;
 *   - for special-purpose seals the purpose (审批专用章 and so on) written horizontally under
 *     the star;
 *   - the 13-digit public-security seal code, when given, in small digits along the lower rim,
 *     reading left to right.
 * The text is the Song face (AR PL UMing CN by default, see render/fonts.ts), stroked a little
 * so that the thin Ming strokes read like the even, bold lines of an engraved seal.
 */

/** Default resolution: 12 px per mm (about 305 dpi), so a 42 mm seal is 504 px wide. */
export const SEAL_PIXELS_PER_MM = 12;

/** Seal red, rgb(230, 0, 18) (#E60012). */
export const SEAL_RED = { r: 230, g: 0, b: 18 } as const;

export interface SealImageSpec {
  /** The organisation name, arched along the upper rim. */
  orgName: string;
  /** The purpose of a special seal, written under the star (审批专用章 ...). */
  purpose?: string;
  /** The 13-digit public-security seal code (GA 241), drawn small along the lower rim. */
  sealCode?: string;
  diameterMm: number;
  /** Resolution; default SEAL_PIXELS_PER_MM. */
  pixelsPerMm?: number;
}

export class SealImageError extends Error {
  override name = 'SealImageError';
}

/** The spec of a department's seal of the given type, with the default diameter and purpose. */
export function sealImageSpec(type: SealType, orgName: string, sealCode?: string): SealImageSpec {
  const purpose = SEAL_PURPOSE[type];
  return {
    orgName,
    diameterMm: SEAL_DIAMETER_MM[type],
    ...(purpose ? { purpose } : {}),
    ...(sealCode ? { sealCode } : {}),
  };
}

/** The width and height in pixels of the PNG renderSealPng makes for a diameter. */
export function sealSizePx(diameterMm: number, pixelsPerMm: number = SEAL_PIXELS_PER_MM): number {
  return Math.round(diameterMm * pixelsPerMm);
}

const MAX_NAME_CHARS = 32;
const MAX_PURPOSE_CHARS = 12;
const MAX_SIZE_PX = 3000;
const FAMILY = 'EsealSongCN';
let fontReady = false;

function ensureFont(): void {
  if (fontReady) return;
  if (!GlobalFonts.register(loadSongFontSync().ttf, FAMILY)) throw new SealImageError('the Song font could not be loaded into the canvas');
  fontReady = true;
}

/** The canvas font family of the Song face, registered on first use. */
export function sealFontFamily(): string {
  ensureFont();
  return FAMILY;
}

function validate(spec: SealImageSpec): { name: string[]; purpose: string | null; code: string | null; size: number } {
  const name = [...spec.orgName.replace(/\s+/gu, '')];
  if (name.length === 0) throw new SealImageError('the organisation name is empty');
  if (name.length > MAX_NAME_CHARS) throw new SealImageError(`the organisation name has ${name.length} characters; at most ${MAX_NAME_CHARS} fit on a seal`);
  const purpose = spec.purpose?.replace(/\s+/gu, '') || null;
  if (purpose && [...purpose].length > MAX_PURPOSE_CHARS) throw new SealImageError(`the purpose has more than ${MAX_PURPOSE_CHARS} characters`);
  const code = spec.sealCode || null;
  if (code !== null && !/^[0-9]{13}$/.test(code)) throw new SealImageError('the seal code must be 13 digits (GA 241)');
  if (!Number.isFinite(spec.diameterMm) || spec.diameterMm < 20 || spec.diameterMm > 80) {
    throw new SealImageError(`a seal diameter of ${spec.diameterMm} mm is outside 20 to 80 mm`);
  }
  const ppm = spec.pixelsPerMm ?? SEAL_PIXELS_PER_MM;
  if (!Number.isFinite(ppm) || ppm < 2 || ppm > 50) throw new SealImageError(`a resolution of ${ppm} px/mm is outside 2 to 50`);
  const size = sealSizePx(spec.diameterMm, ppm);
  if (size > MAX_SIZE_PX) throw new SealImageError(`a seal of ${size} px is larger than ${MAX_SIZE_PX} px`);
  return { name, purpose, code, size };
}

function drawStar(ctx: SKRSContext2D, cx: number, cy: number, outer: number): void {
  const inner = outer * 0.382; // a regular pentagram: inner / outer = sin 18° / sin 126°
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? outer : inner;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    if (i === 0) ctx.moveTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
    else ctx.lineTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
  }
  ctx.closePath();
  ctx.fill();
}

/**
 * Draws text centred on the origin of the current transform, emboldened by a stroke of
 * `weight` (in the untransformed font's units); `baseline` is the baseline's offset from the
 * visual centre of the text.
 */
function drawText(ctx: SKRSContext2D, text: string, baseline: number, weight: number): void {
  ctx.lineWidth = weight;
  ctx.fillText(text, 0, baseline);
  if (weight > 0) ctx.strokeText(text, 0, baseline);
}

/** Where renderSealPng puts everything, in pixels; angles in radians clockwise from 12 o'clock. */
export interface SealLayout {
  /** Width and height of the square image. */
  size: number;
  /** The seal's centre, (centre, centre). */
  centre: number;
  ring: { outer: number; inner: number };
  /** The star's circumscribed radius; one point straight up. */
  star: { outer: number };
  name: {
    chars: string[];
    fontPx: number;
    /** Distance from the centre to the middle of the characters. */
    radius: number;
    /** Height of a full ideograph, stroke included. */
    charHeight: number;
    /** Angle between neighbouring characters. */
    step: number;
    /** Horizontal scale of each character (1 = the font's own width). */
    squeeze: number;
    /** Width of the stroke that emboldens the characters. */
    weight: number;
    /** The angle of each character's centre, left to right. */
    angles: number[];
  };
  purpose: { text: string; fontPx: number; top: number; bottom: number; maxWidth: number } | null;
  code: { digits: string[]; fontPx: number; radius: number; digitHeight: number; step: number; angles: number[] } | null;
}

interface Metrics {
  /** Ink ascent and descent of the ideographs, per em. */
  ascent: number;
  descent: number;
  /** Ink ascent of the digit 0, per em. */
  digit: number;
}

let metrics: Metrics | null = null;

function fontMetrics(): Metrics {
  ensureFont();
  if (!metrics) {
    const ctx = createCanvas(8, 8).getContext('2d');
    ctx.font = `100px ${FAMILY}`;
    // The ink box the ideographs fit in, from one measurement of a sample of 565 characters
    // spread over the CJK Unified Ideographs block (the whole block takes half a second),
    // plus 0.01 em. For AR PL UMing: 0.88 em above the baseline, 0.12 below.
    let sample = '';
    for (let cp = 0x4e00; cp <= 0x9fa5; cp += 37) sample += String.fromCodePoint(cp);
    const box = ctx.measureText(sample);
    metrics = {
      ascent: box.actualBoundingBoxAscent / 100 + 0.01,
      descent: box.actualBoundingBoxDescent / 100 + 0.01,
      digit: ctx.measureText('0').actualBoundingBoxAscent / 100,
    };
  }
  return metrics;
}

function layout(spec: SealImageSpec, m: Metrics): SealLayout {
  const { name: chars, purpose, code, size } = validate(spec);
  const D = size;
  const c = D / 2;
  // Measures are fractions of the diameter D: on a 42 mm seal 0.01 D is 0.42 mm.
  const ringOuter = c - Math.max(1, 0.004 * D); // room for anti-aliasing inside the square
  const ringInner = ringOuter - 0.034 * D; // a ring about 1.4 mm thick
  const starOuter = 0.165 * D; // 14 mm across on a 42 mm seal
  const em = m.ascent + m.descent;

  // The name: the arc grows with the length, 210 to 250 degrees. Characters are narrowed to
  // fit, measured a quarter up from their foot where neighbours come closest; a name so long
  // that they would get narrower than about half their width is set smaller, down to 70 %.
  const n = chars.length;
  const spanDeg = Math.min(250, Math.max(210, 190 + 5 * n));
  const fit = (fontPx: number) => {
    const charHeight = em * fontPx + 0.045 * fontPx; // with the thickest emboldening stroke
    const radius = ringInner - 0.022 * D - charHeight / 2;
    const fullAngle = fontPx / (radius - charHeight / 4); // one full-width character, in radians
    const step = Math.min((spanDeg * Math.PI) / 180 / n, fullAngle * 1.7); // short names not too sparse
    const squeeze = Math.min(0.92, (step * 0.84) / fullAngle);
    // narrowed characters get a thinner stroke, or their dense horizontals run together
    return { fontPx, weight: fontPx * (0.02 + 0.025 * squeeze), charHeight, radius, step, squeeze };
  };
  let nameFit = fit(0.15 * D);
  while (nameFit.squeeze < 0.55 && nameFit.fontPx > 0.106 * D) nameFit = fit(nameFit.fontPx * 0.97);
  const { fontPx, weight: nameWeight, charHeight, radius, step, squeeze } = nameFit;
  const angles = chars.map((_, i) => (i - (n - 1) / 2) * step);

  let purposeLayout: SealLayout['purpose'] = null;
  if (purpose) {
    const pPx = 0.1 * D;
    const top = c + starOuter * Math.cos(Math.PI / 5) + 0.045 * D; // below the star's lower points
    purposeLayout = { text: purpose, fontPx: pPx, top, bottom: top + em * pPx + pPx * 0.045, maxWidth: 0.52 * D };
  }

  let codeLayout: SealLayout['code'] = null;
  if (code) {
    const cPx = 0.052 * D;
    const digitHeight = m.digit * cPx;
    const codeRadius = ringInner - 0.018 * D - digitHeight / 2;
    const codeStep = (0.55 * cPx) / codeRadius;
    const digits = [...code];
    // left to right along the bottom: from the 7 o'clock side of 6 o'clock to the 5 o'clock side
    codeLayout = { digits, fontPx: cPx, radius: codeRadius, digitHeight, step: codeStep, angles: digits.map((_, i) => Math.PI + ((digits.length - 1) / 2 - i) * codeStep) };
  }

  return {
    size,
    centre: c,
    ring: { outer: ringOuter, inner: ringInner },
    star: { outer: starOuter },
    name: { chars, fontPx, radius, charHeight, step, squeeze, weight: nameWeight, angles },
    purpose: purposeLayout,
    code: codeLayout,
  };
}

/** The geometry renderSealPng uses for a spec (validates the spec; needs the Song font). */
export function sealLayout(spec: SealImageSpec): SealLayout {
  return layout(spec, fontMetrics());
}

/**
 * Renders the seal as a square PNG (sealSizePx wide) with a transparent background.
 * Throws SealImageError for an unusable spec and FontMissingError without the Song font.
 */
export function renderSealPng(spec: SealImageSpec): Buffer {
  const m = fontMetrics();
  const L = layout(spec, m);
  const c = L.centre;
  const canvas = createCanvas(L.size, L.size);
  const ctx = canvas.getContext('2d');
  ctx.lang = 'zh-CN';
  const red = `rgb(${SEAL_RED.r}, ${SEAL_RED.g}, ${SEAL_RED.b})`;
  ctx.fillStyle = red;
  ctx.strokeStyle = red;
  ctx.lineJoin = 'round';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  // baseline offset from the visual centre of an ideograph, per em
  const middle = (m.ascent - m.descent) / 2;

  ctx.lineWidth = L.ring.outer - L.ring.inner;
  ctx.beginPath();
  ctx.arc(c, c, (L.ring.outer + L.ring.inner) / 2, 0, 2 * Math.PI);
  ctx.stroke();

  drawStar(ctx, c, c, L.star.outer);

  const name = L.name;
  ctx.font = `${name.fontPx}px ${FAMILY}`;
  name.chars.forEach((ch, i) => {
    ctx.save();
    ctx.translate(c, c);
    ctx.rotate(name.angles[i]!); // foot towards the centre
    ctx.translate(0, -name.radius);
    ctx.scale(name.squeeze, 1);
    drawText(ctx, ch, middle * name.fontPx, name.weight);
    ctx.restore();
  });

  if (L.purpose) {
    const p = L.purpose;
    ctx.font = `${p.fontPx}px ${FAMILY}`;
    const weight = p.fontPx * 0.045;
    const width = ctx.measureText(p.text).width + weight;
    ctx.save();
    ctx.translate(c, (p.top + p.bottom) / 2);
    if (width > p.maxWidth) ctx.scale(p.maxWidth / width, 1);
    drawText(ctx, p.text, middle * p.fontPx, weight);
    ctx.restore();
  }

  if (L.code) {
    const k = L.code;
    ctx.font = `${k.fontPx}px ${FAMILY}`;
    k.digits.forEach((d, i) => {
      ctx.save();
      ctx.translate(c, c);
      ctx.rotate(k.angles[i]! - Math.PI); // upright to a reader: top towards the centre
      ctx.translate(0, k.radius);
      drawText(ctx, d, k.digitHeight / 2, k.fontPx * 0.05);
      ctx.restore();
    });
  }

  // Overlapping anti-aliased edges, composited in 8-bit premultiplied steps, drift from the
  // red by a few levels; repaint every pixel in the exact red, keeping its coverage.
  ctx.globalCompositeOperation = 'source-in';
  ctx.fillRect(0, 0, L.size, L.size);

  return canvas.toBuffer('image/png');
}
