import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { songFontPath } from '../render/fonts.js';

export const SEAL_TYPES = ['official', 'approval', 'business', 'contract', 'finance'] as const;
export type SealType = (typeof SEAL_TYPES)[number];

/** The purpose written under the star; the official seal has none. */
export const SEAL_PURPOSE: Record<SealType, string | undefined> = {
  official: undefined,
  approval: '审批专用章',
  business: '业务专用章',
  contract: '合同专用章',
  finance: '财务专用章',
};

/** Diameters in mm: department official seals about 42 mm, special-purpose seals 40 mm. */
export const SEAL_DIAMETER_MM: Record<SealType, number> = { official: 42, approval: 40, business: 40, contract: 40, finance: 40 };

const SEAL_RED = 'rgb(230, 0, 18)';
const FAMILY = 'SealSong';
let fontRegistered = false;

function ensureFont(): void {
  if (fontRegistered) return;
  GlobalFonts.registerFromPath(songFontPath(), FAMILY);
  fontRegistered = true;
}

function star(ctx: SKRSContext2D, cx: number, cy: number, outer: number): void {
  const inner = outer * 0.382;
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 === 0 ? outer : inner;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    const x = cx + radius * Math.cos(angle);
    const y = cy + radius * Math.sin(angle);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.closePath();
  ctx.fill();
}

/** Draws one glyph filled and lightly stroked: the thin Song face then reads like a carved seal. */
function glyph(ctx: SKRSContext2D, ch: string, x: number, y: number, size: number): void {
  ctx.lineWidth = size * 0.05;
  ctx.fillText(ch, x, y);
  ctx.strokeText(ch, x, y);
}

export interface SealImageSpec {
  orgName: string;
  purpose?: string;
  /** 13-digit public-security seal code, drawn small along the lower rim. */
  sealCode?: string;
  diameterMm: number;
  pixelsPerMm?: number;
}

/**
 * The standard form of a Chinese government seal as a transparent PNG: red ring, five-pointed
 * star in the centre, the organisation name arched along the upper rim left to right, the
 * purpose of a special seal written horizontally below the star.
 */
export function renderSealPng(spec: SealImageSpec): Buffer {
  ensureFont();
  const size = Math.round(spec.diameterMm * (spec.pixelsPerMm ?? 12));
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext('2d');
  const c = size / 2;
  ctx.fillStyle = SEAL_RED;
  ctx.strokeStyle = SEAL_RED;

  const ring = size * 0.034;
  const ringRadius = c - ring / 2 - size * 0.01;
  ctx.lineWidth = ring;
  ctx.beginPath();
  ctx.arc(c, c, ringRadius, 0, Math.PI * 2);
  ctx.stroke();

  star(ctx, c, c, size * 0.165);

  const chars = [...spec.orgName];
  const fontSize = size * (chars.length > 14 ? 0.11 : 0.13);
  const textRadius = ringRadius - ring / 2 - size * 0.02 - fontSize / 2;
  const natural = (fontSize * 1.02) / textRadius;
  const maxSpan = (250 * Math.PI) / 180;
  const step = chars.length > 1 ? Math.min(natural * 1.25, maxSpan / (chars.length - 1)) : 0;
  const squeeze = Math.min(1, step / natural);
  ctx.font = `${fontSize}px ${FAMILY}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const first = (-step * (chars.length - 1)) / 2;
  chars.forEach((ch, i) => {
    ctx.save();
    ctx.translate(c, c);
    ctx.rotate(first + i * step);
    ctx.translate(0, -textRadius);
    ctx.scale(squeeze, 1);
    glyph(ctx, ch, 0, 0, fontSize);
    ctx.restore();
  });

  if (spec.purpose) {
    const purposeSize = size * 0.1;
    ctx.font = `${purposeSize}px ${FAMILY}`;
    const width = ctx.measureText(spec.purpose).width;
    const maxWidth = size * 0.56;
    ctx.save();
    ctx.translate(c, c + size * 0.265);
    if (width > maxWidth) ctx.scale(maxWidth / width, 1);
    glyph(ctx, spec.purpose, 0, 0, purposeSize);
    ctx.restore();
  }

  if (spec.sealCode) {
    const codeSize = size * 0.045;
    ctx.font = `${codeSize}px ${FAMILY}`;
    const digits = [...spec.sealCode];
    const codeRadius = ringRadius - ring / 2 - size * 0.01 - codeSize / 2;
    const codeStep = (codeSize * 0.75) / codeRadius;
    const start = (codeStep * (digits.length - 1)) / 2;
    digits.forEach((d, i) => {
      ctx.save();
      ctx.translate(c, c);
      ctx.rotate(start - i * codeStep);
      ctx.fillText(d, 0, codeRadius);
      ctx.restore();
    });
  }
  return canvas.toBuffer('image/png');
}
