import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import QRCode from 'qrcode';
import { chineseDate } from '../calendar/dates.js';
import type { LicenseField, LicenseType } from '../licenses/types.js';
import { loadSongFont } from './fonts.js';

export interface LicenseContent {
  type: LicenseType;
  identifier: string;
  number: string;
  holderName: string;
  holderCode: string;
  fields: Record<string, unknown>;
  issuerName: string;
  /** Dates as YYYY-MM-DD; the document prints them in the Chinese form (2026年11月30日). */
  issuedOn: string;
  validFrom?: string;
  validUntil?: string;
  /** What the QR code opens: the public verification page. */
  qrUrl: string;
}

export interface RenderedLicense {
  pdf: Buffer;
  /** Where the issuing seal goes: on the page as displayed, points from its top-left. */
  seal: { pageIndex: number; centerX: number; centerY: number };
}

const SIZES = { A4: [595.28, 841.89], A3: [841.89, 1190.55] } as const;
const MM = 72 / 25.4;
const MARGIN = 64;
const INK = rgb(0.1, 0.1, 0.1);

function display(field: LicenseField, value: unknown): string {
  if (Array.isArray(value)) return value.map((item, i) => `${i + 1}. ${String(item)}`).join('\n');
  if (field.type === 'date' && typeof value === 'string') return chineseDate(value);
  return value === undefined || value === null ? '' : String(value);
}

/** Breaks text into lines that fit `width` (per character, as CJK text has no spaces to break at). */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const ch of paragraph) {
      if (line && font.widthOfTextAtSize(line + ch, size) > width) {
        lines.push(line);
        line = '';
      }
      line += ch;
    }
    lines.push(line);
  }
  return lines;
}

function drawQr(page: PDFPage, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const count = qr.modules.size;
  const quiet = 4;
  const cell = size / (count + 2 * quiet);
  page.drawRectangle({ x, y, width: size, height: size, color: rgb(1, 1, 1) });
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.modules.get(row, col)) {
        page.drawRectangle({ x: x + (col + quiet) * cell, y: y + size - (row + quiet + 1) * cell, width: cell, height: cell, color: rgb(0, 0, 0) });
      }
    }
  }
}

/**
 * Renders a license or notice: title, number, holder, every field of its type, issuer and
 * dates in the Song face (embedded as a subset), the QR code of the verification page, and a
 * place for the issuing seal over the issuer's name.
 */
export async function renderLicensePdf(content: LicenseContent): Promise<RenderedLicense> {
  const { type } = content;
  const [w, h] = SIZES[type.page.size];
  const [width, height] = type.page.orientation === 'portrait' ? [w, h] : [h, w];
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  doc.setTitle(`${type.name} ${content.number}`);
  doc.setCreator('e-seal service');
  const font = await doc.embedFont((await loadSongFont()).ttf, { subset: true });
  const page = doc.addPage([width, height]);
  const { layout } = type;
  const title = layout.titleSize;
  page.drawText(type.name, { x: (width - font.widthOfTextAtSize(type.name, title)) / 2, y: height - MARGIN - title, size: title, font, color: INK });
  const numberText = `编号：${content.number}`;
  page.drawText(numberText, { x: width - MARGIN - font.widthOfTextAtSize(numberText, 11), y: height - MARGIN + 8, size: 11, font, color: INK });

  const rows: Array<[string, string]> = [
    [type.holder.nameLabel, content.holderName],
    [type.holder.codeLabel, content.holderCode],
    ...type.fields.filter((f) => content.fields[f.key] !== undefined).map((f): [string, string] => [f.label, display(f, content.fields[f.key])]),
  ];
  if (content.validFrom || content.validUntil) rows.push(['有效期', `${content.validFrom ? chineseDate(content.validFrom) : ''} 至 ${content.validUntil ? chineseDate(content.validUntil) : '长期'}`]);
  const size = layout.fontSize;
  const labelWidth = Math.max(...rows.map(([label]) => font.widthOfTextAtSize(`${label}：`, size)));
  const valueWidth = width - 2 * MARGIN - labelWidth;
  let y = height - MARGIN - title - 48;
  for (const [label, value] of rows) {
    page.drawText(`${label}：`, { x: MARGIN, y, size, font, color: INK });
    for (const line of wrap(value, font, size, valueWidth)) {
      page.drawText(line, { x: MARGIN + labelWidth, y, size, font, color: INK });
      y -= size * 1.7;
    }
    y -= 4;
  }

  const qrSize = layout.qr.sizeMm * MM;
  const qrX = layout.qr.leftMm * MM;
  const qrY = layout.qr.bottomMm * MM;
  drawQr(page, content.qrUrl, qrX, qrY, qrSize);
  page.drawText('扫码核验', { x: qrX + qrSize / 2 - font.widthOfTextAtSize('扫码核验', 10) / 2, y: qrY - 14, size: 10, font, color: INK });
  page.drawText(`证照标识：${content.identifier}`, { x: qrX + qrSize + 12, y: qrY, size: 8, font, color: INK });

  // The issuer's name and the date sit under the seal, as on paper.
  const issuerSize = 14;
  const sealX = width - layout.seal.rightMm * MM;
  const sealY = layout.seal.bottomMm * MM;
  const nameWidth = font.widthOfTextAtSize(content.issuerName, issuerSize);
  page.drawText(content.issuerName, { x: sealX - nameWidth / 2, y: sealY + 4, size: issuerSize, font, color: INK });
  const issuedOn = chineseDate(content.issuedOn);
  page.drawText(issuedOn, { x: sealX - font.widthOfTextAtSize(issuedOn, issuerSize) / 2, y: sealY - 20, size: issuerSize, font, color: INK });
  return {
    pdf: Buffer.from(await doc.save({ useObjectStreams: false })),
    seal: { pageIndex: 0, centerX: sealX, centerY: height - sealY },
  };
}
