import { PDFDocument, rgb, type PDFPage } from 'pdf-lib';
import { chineseDate } from '../calendar/dates.js';
import { centred, fitSize } from './compose.js';
import type { LicenseContent } from './document-content.js';
import { drawLine, type DocumentFonts } from './draw-text.js';
import { flowLines, type FlowLine, type Flowed, type PageFrame } from './flow.js';
import { fontsFor, sharedFontkit, type FontSet } from './font-set.js';
import { LayoutOverflowError, UnprintableTextError } from './layout-errors.js';
import { composeLetter, type Column } from './letter.js';
import { composeLicenceFace, rightColumnX } from './licence-face.js';
import { closingPlacement, FOOTER_FROM_BOTTOM, FOOTER_SIZE, MARGIN_X, qrPlacement, sealBox, TOP, type Box, type PlacedText } from './page-geometry.js';
import { drawQr } from './qr.js';
import { attachXmp, licenceXmp } from './xmp.js';

export type { LicenseContent } from './document-content.js';

export interface RenderedLicense {
  pdf: Buffer;
  /** Where the issuing seal goes: on the page as displayed, points from its top-left. */
  seal: { pageIndex: number; centerX: number; centerY: number };
  /** What the layout decided, in points from the top-left of each page (tests check the text against it). */
  layout: {
    pageCount: number;
    fontSize: number;
    sealBox: Box & { pageIndex: number };
    qrBox: Box & { pageIndex: number };
    /** Where the right-hand column starts on a two-column face. */
    rightColumnX?: number;
  };
}

const SIZES = { A4: [595.28, 841.89], A3: [841.89, 1190.55] } as const;
const INK = rgb(0.1, 0.1, 0.1);
const RED = rgb(0.8, 0.05, 0.05);

/** Every text the document prints, for choosing its fonts. */
function textsOf(content: LicenseContent): string[] {
  const { type } = content;
  const fieldValues = Object.values(content.fields).flatMap((v) => (Array.isArray(v) ? v.map(String) : [String(v)]));
  const letter = type.letter ? [type.letter.addressee, ...type.letter.paragraphs.filter((p): p is string => typeof p === 'string')] : [];
  return [type.name, content.holderName, content.holderCode, content.number, content.identifier, content.issuerName, ...fieldValues, ...letter, ...type.fields.map((f) => f.label)];
}

/** Refuses text neither face can draw: it would print as an empty box. Validation refuses it first; this keeps the promise. */
function assertDrawable(fonts: FontSet, content: LicenseContent): void {
  const check = (text: string, field: string): void => {
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp !== 0x0a && !fonts.canDraw(cp)) throw new UnprintableTextError(field, cp);
    }
  };
  check(content.holderName, 'holder.name');
  check(content.holderCode, 'holder.code');
  for (const [key, value] of Object.entries(content.fields)) for (const item of Array.isArray(value) ? value : [value]) check(String(item), `fields.${key}`);
}

/** The official-letter number (文号) of a notice numbered SL2026000123: SL〔2026〕000123号. */
export function letterNumber(number: string): string {
  const m = /^([A-Z]+)(\d{4})(\d{6})$/.exec(number);
  return m ? `${m[1]}〔${m[2]}〕${m[3]}号` : number;
}

interface Header {
  texts: Array<PlacedText & { red?: boolean }>;
  rule?: { y: number };
  /** Where the content starts under it. */
  bottom: number;
}

function letterHeader(fonts: FontSet, content: LicenseContent, width: number): Header {
  const { type } = content;
  const headSize = fitSize(fonts, content.issuerName, 24, width - 2 * MARGIN_X);
  const headBaseline = TOP + headSize * 0.9;
  const number = letterNumber(content.number);
  const numberBaseline = headBaseline + 30;
  const ruleY = numberBaseline + 10;
  const titleSize = fitSize(fonts, type.name, type.layout.titleSize, width - 2 * MARGIN_X);
  const titleBaseline = ruleY + 18 + titleSize * 0.9;
  const line = (text: string, size: number, baseline: number): PlacedText => ({ text, size, baseline, x: centred(fonts, text, size, 0, width).segments[0]!.x });
  return {
    texts: [{ ...line(content.issuerName, headSize, headBaseline), red: true }, line(number, type.layout.fontSize, numberBaseline), line(type.name, titleSize, titleBaseline)],
    rule: { y: ruleY },
    bottom: titleBaseline + titleSize * 0.3 + 18,
  };
}

function licenceHeader(fonts: FontSet, content: LicenseContent, width: number, qrBottom: number | undefined, qrLeft: number): Header {
  const { type } = content;
  const right = qrBottom === undefined ? width - MARGIN_X : qrLeft - 10;
  const titleSize = fitSize(fonts, type.name, type.layout.titleSize, right - MARGIN_X);
  const titleWidth = fonts.width(type.name, titleSize);
  const titleX = Math.min((width - titleWidth) / 2, right - titleWidth);
  const titleBaseline = TOP + 24 + titleSize * 0.9;
  const numberText = `编号：${content.number}`;
  return {
    texts: [
      { text: numberText, x: MARGIN_X, baseline: TOP, size: 11 },
      { text: type.name, x: titleX, baseline: titleBaseline, size: titleSize },
    ],
    bottom: Math.max(titleBaseline + titleSize * 0.3 + 20, (qrBottom ?? 0) + 14),
  };
}

interface Composed {
  size: number;
  lines: FlowLine[];
  flowed: Flowed;
}

/**
 * The largest size from the type's size down to its floor at which the content takes no more
 * pages than it takes at the floor: text shrinks before it continues on a further page.
 */
function chooseSize(compose: (size: number) => FlowLine[], frame: PageFrame, base: number, floor: number): Composed {
  const at = (size: number): Composed => {
    const lines = compose(size);
    return { size, lines, flowed: flowLines(lines, frame) };
  };
  const first = at(base);
  if (first.flowed.pageCount === 1 || floor >= base) return first;
  const smallest = at(floor);
  for (let size = base - 0.5; size > floor; size -= 0.5) {
    const tried = at(size);
    if (tried.flowed.pageCount <= smallest.flowed.pageCount) return tried;
  }
  return smallest;
}

/** The field that does not fit in `maxPages`: the first one past the limit, else the one taking most lines. */
function overflowingField(composed: Composed, maxPages: number): string {
  const past = composed.flowed.lines.find((l) => l.pageIndex >= maxPages && l.field);
  if (past?.field) return past.field;
  const counts = new Map<string, number>();
  for (const l of composed.lines) if (l.field) counts.set(l.field, (counts.get(l.field) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'fields';
}

function drawPlaced(page: PDFPage, fonts: DocumentFonts, t: PlacedText & { red?: boolean }): void {
  drawLine(page, fonts, t.text, t.x, t.baseline, t.size, t.red ? RED : INK);
}

/**
 * Renders a licence face or an official letter: measured with the fonts' advance widths, wrapped
 * by the Chinese line-breaking rules, shrunk down to the type's floor size and then continued on
 * further pages, every page numbered; the issuer, date, seal and (unless it sits at the top of
 * the first page) the QR code on the last page, where no content reaches. Content beyond the
 * type's page limit is refused (LayoutOverflowError naming the field), never cut.
 */
export async function renderLicensePdf(content: LicenseContent): Promise<RenderedLicense> {
  const { type } = content;
  const [w, h] = SIZES[type.page.size];
  const [width, height] = type.page.orientation === 'portrait' ? [w, h] : [h, w];
  const fonts = await fontsFor(textsOf(content));
  assertDrawable(fonts, content);

  const seal = sealBox(type, width, height, content.sealDiameterMm);
  const qr = qrPlacement(fonts, type, content.identifier, width, height, seal);
  const issuedOn = chineseDate(content.issuedOn);
  const closing = closingPlacement(fonts, type, content.issuerName, issuedOn, width, seal, qr);
  const header = type.layout.style === 'letter' ? letterHeader(fonts, content, width) : licenceHeader(fonts, content, width, qr.onFirstPage ? qr.bottom : undefined, qr.box.x);
  const bottom = height - FOOTER_FROM_BOTTOM - FOOTER_SIZE - 14;
  const frame: PageFrame = { firstTop: header.bottom, nextTop: TOP + 24, bottom, closingHeight: bottom - closing.top };
  const column: Column = { x: MARGIN_X, width: width - 2 * MARGIN_X };
  const compose = (size: number): FlowLine[] => (type.layout.style === 'letter' ? composeLetter(fonts, content, size, column) : composeLicenceFace(fonts, content, size, column));
  const base = type.layout.fontSize;
  const composed = chooseSize(compose, frame, base, Math.min(base, type.layout.minFontSize ?? Math.max(9, base - 2)));
  const { flowed } = composed;
  if (flowed.pageCount > type.layout.maxPages) {
    const field = overflowingField(composed, type.layout.maxPages);
    throw new LayoutOverflowError(field, `does not fit on the ${type.layout.maxPages} page(s) a ${type.name} may have, even at ${composed.size} pt`);
  }

  const doc = await PDFDocument.create();
  doc.registerFontkit(sharedFontkit);
  doc.setTitle(`${type.name} ${content.number}`);
  doc.setCreator('e-seal service');
  const pdfFonts: DocumentFonts = { set: fonts, pdf: new Map([[fonts.song, await doc.embedFont(fonts.song.ttf, { subset: true })]]) };
  if (fonts.extB) pdfFonts.pdf.set(fonts.extB, await doc.embedFont(fonts.extB.ttf, { subset: true }));
  const pages = Array.from({ length: flowed.pageCount }, () => doc.addPage([width, height]));
  const first = pages[0]!;
  const last = pages[pages.length - 1]!;

  for (const t of header.texts) drawPlaced(first, pdfFonts, t);
  if (header.rule) first.drawLine({ start: { x: MARGIN_X, y: height - header.rule.y }, end: { x: width - MARGIN_X, y: height - header.rule.y }, thickness: 1.5, color: RED });
  const continuation = `${type.name}（续页）  ${type.layout.style === 'letter' ? letterNumber(content.number) : `编号：${content.number}`}`;
  pages.forEach((page, i) => {
    if (i > 0) drawLine(page, pdfFonts, continuation, MARGIN_X, TOP, 9, INK);
    const footer = `第 ${i + 1} 页 共 ${pages.length} 页`;
    drawLine(page, pdfFonts, footer, (width - fonts.width(footer, FOOTER_SIZE)) / 2, height - FOOTER_FROM_BOTTOM, FOOTER_SIZE, INK);
  });
  for (const line of flowed.lines) for (const s of line.segments) drawLine(pages[line.pageIndex]!, pdfFonts, s.text, s.x, line.baseline, line.size, INK);
  if (flowed.closingAlone) drawLine(last, pdfFonts, '（此页无正文）', MARGIN_X + 2 * base, frame.nextTop + base, base, INK);

  const qrPage = qr.onFirstPage ? first : last;
  drawQr(qrPage, content.qrUrl, qr.box.x, height - qr.box.y - qr.box.height, qr.box.width);
  drawPlaced(qrPage, pdfFonts, qr.caption);
  drawPlaced(qrPage, pdfFonts, qr.identifier);
  for (const t of closing.texts) drawPlaced(last, pdfFonts, t);

  attachXmp(
    doc,
    licenceXmp({
      name: type.name,
      typeCode: type.typeCode,
      number: content.number,
      identifier: content.identifier,
      issuer: content.issuerName,
      ...(content.issuerCode ? { issuerCode: content.issuerCode } : {}),
      issuedOn: content.issuedOn,
      holder: content.holderName,
      holderCode: content.holderCode,
      ...(content.holderCodeType ? { holderCodeType: content.holderCodeType } : {}),
      ...(content.validFrom ? { validFrom: content.validFrom } : {}),
      ...(content.validUntil ? { validUntil: content.validUntil } : {}),
    }),
  );
  const lastIndex = pages.length - 1;
  return {
    pdf: Buffer.from(await doc.save({ useObjectStreams: false })),
    seal: { pageIndex: lastIndex, centerX: seal.x + seal.width / 2, centerY: seal.y + seal.height / 2 },
    layout: {
      pageCount: pages.length,
      fontSize: composed.size,
      sealBox: { ...seal, pageIndex: lastIndex },
      qrBox: { ...qr.box, pageIndex: qr.onFirstPage ? 0 : lastIndex },
      ...(type.layout.style === 'licence' && type.layout.rightColumn ? { rightColumnX: rightColumnX(column) } : {}),
    },
  };
}
