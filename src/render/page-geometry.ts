import type { LicenseType } from '../licenses/types.js';
import { fitSize } from './compose.js';
import type { FontSet } from './font-set.js';

/** A rectangle on a page as displayed, in points from the top-left corner. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const MM = 72 / 25.4;
export const MARGIN_X = 64;
export const TOP = 56;
export const FOOTER_SIZE = 9;
/** The page number's baseline, from the bottom edge. */
export const FOOTER_FROM_BOTTOM = 24;
const CAPTION_SIZE = 9;
const IDENTIFIER_SIZE = 7.5;

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** A text placed at a baseline, with the box it takes. */
export interface PlacedText {
  text: string;
  x: number;
  baseline: number;
  size: number;
}

function boxOf(fonts: FontSet, t: PlacedText): Box {
  return { x: t.x, y: t.baseline - t.size * 0.9, width: fonts.width(t.text, t.size), height: t.size * 1.1 };
}

/** Where the QR code, its caption and the identifier go (on the first page for a top-right code, else on the last). */
export interface QrPlacement {
  onFirstPage: boolean;
  box: Box;
  caption: PlacedText;
  identifier: PlacedText;
  /** The lowest point anything of it reaches. */
  bottom: number;
}

/** The closing block of the last page: the issuer (with its label on a licence), the date, the seal over them. */
export interface ClosingPlacement {
  seal: Box;
  texts: PlacedText[];
  /** The top of everything in the closing block, the QR code included when it sits there. */
  top: number;
}

export function qrPlacement(fonts: FontSet, type: LicenseType, identifier: string, width: number, height: number, seal: Box): QrPlacement {
  const { qr } = type.layout;
  const size = qr.sizeMm * MM;
  const idText = `证照标识：${identifier}`;
  const idWidth = fonts.width(idText, IDENTIFIER_SIZE);
  if ('corner' in qr) {
    const box = { x: width - qr.rightMm * MM - size, y: qr.topMm * MM, width: size, height: size };
    const caption = { text: '扫码核验', x: box.x + size / 2 - fonts.width('扫码核验', CAPTION_SIZE) / 2, baseline: box.y + size + 12, size: CAPTION_SIZE };
    const identifierText = { text: idText, x: Math.min(box.x, width - MARGIN_X / 2 - idWidth), baseline: caption.baseline + 12, size: IDENTIFIER_SIZE };
    return { onFirstPage: true, box, caption, identifier: identifierText, bottom: identifierText.baseline + IDENTIFIER_SIZE * 0.3 };
  }
  const box = { x: qr.leftMm * MM, y: height - qr.bottomMm * MM - size, width: size, height: size };
  const caption = { text: '扫码核验', x: box.x + size / 2 - fonts.width('扫码核验', CAPTION_SIZE) / 2, baseline: box.y + size + 12, size: CAPTION_SIZE };
  // Beside the code when that leaves the seal and the margin clear, else under the caption.
  const beside = { text: idText, x: box.x + size + 10, baseline: box.y + size - 2, size: IDENTIFIER_SIZE };
  const fitsBeside = beside.x + idWidth <= width - MARGIN_X / 2 && !overlaps(boxOf(fonts, beside), seal);
  const identifierText = fitsBeside ? beside : { text: idText, x: box.x, baseline: caption.baseline + 11, size: IDENTIFIER_SIZE };
  return { onFirstPage: false, box, caption, identifier: identifierText, bottom: identifierText.baseline + IDENTIFIER_SIZE * 0.3 };
}

export function sealBox(type: LicenseType, width: number, height: number, diameterMm: number): Box {
  const d = diameterMm * MM;
  const cx = width - type.layout.seal.rightMm * MM;
  const cy = height - type.layout.seal.bottomMm * MM;
  return { x: cx - d / 2, y: cy - d / 2, width: d, height: d };
}

/**
 * The issuer's name and the date sit in the lower half of the seal, as the seal is pressed over
 * them on paper; a licence's issuer label (登记机关) stands to the left of the seal.
 */
export function closingPlacement(fonts: FontSet, type: LicenseType, issuerName: string, date: string, width: number, seal: Box, qr: QrPlacement): ClosingPlacement {
  const cx = seal.x + seal.width / 2;
  const cy = seal.y + seal.height / 2;
  const size = fitSize(fonts, issuerName, type.layout.fontSize + 2, width - 2 * MARGIN_X);
  const centredAt = (text: string, textSize: number): number => {
    const w = fonts.width(text, textSize);
    return Math.max(MARGIN_X, Math.min(cx - w / 2, width - MARGIN_X / 2 - w));
  };
  const nameBaseline = cy + size * 0.35;
  const texts: PlacedText[] = [
    { text: issuerName, x: centredAt(issuerName, size), baseline: nameBaseline, size },
    { text: date, x: centredAt(date, size), baseline: nameBaseline + size * 1.6, size },
  ];
  const label = type.layout.issuerLabel;
  if (label) texts.push({ text: label, x: Math.max(MARGIN_X, seal.x - fonts.width(label, size) - 10), baseline: cy - size * 1.3, size });
  const tops = [seal.y, ...texts.map((t) => t.baseline - t.size * 0.9)];
  if (!qr.onFirstPage) tops.push(qr.box.y);
  return { seal, texts, top: Math.min(...tops) - 10 };
}
