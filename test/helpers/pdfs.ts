import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PDFDocument, StandardFonts, concatTransformationMatrix, drawObject, popGraphicsState, pushGraphicsState, rgb } from 'pdf-lib';

/** A plain PDF made by pdf-lib, classic xref table; each page says "Page N" near the top. */
export async function makePdf(pages = 1, options: { useObjectStreams?: boolean; size?: [number, number] } = {}): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++) {
    const page = pdf.addPage(options.size ?? [595.28, 841.89]);
    page.drawText(`Page ${i + 1} of a test document`, { x: 56, y: page.getHeight() - 80, size: 18, font, color: rgb(0, 0, 0) });
    page.drawText('Seal here: (SEAL)', { x: 300, y: 200, size: 14, font });
  }
  return Buffer.from(await pdf.save({ useObjectStreams: options.useObjectStreams ?? false }));
}

/** Rewrites a PDF with qpdf (an independent writer): object streams and an xref stream. */
export function qpdfRewrite(input: Buffer, args: string[]): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpdf-'));
  const inFile = path.join(dir, 'in.pdf');
  const outFile = path.join(dir, 'out.pdf');
  writeFileSync(inFile, input);
  execFileSync('qpdf', [...args, inFile, outFile]);
  return readFileSync(outFile);
}

/**
 * Appends a hand-written incremental update (a new /Info dictionary) with a classic xref
 * section, as another producer would, so sealing must follow a /Prev chain.
 */
export function appendInfoUpdate(input: Buffer, title: string): Buffer {
  const text = input.toString('latin1');
  const startxref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text)?.[1]);
  const trailerMatch = /trailer\s*<<([\s\S]*?)>>\s*startxref/.exec(text.slice(text.lastIndexOf('trailer')));
  if (!trailerMatch || Number.isNaN(startxref)) throw new Error('appendInfoUpdate needs a classic trailer');
  const size = Number(/\/Size (\d+)/.exec(trailerMatch[1]!)![1]);
  const root = /\/Root (\d+ \d+ R)/.exec(trailerMatch[1]!)![1];
  const objOffset = input.length + 1;
  const obj = `\n${size} 0 obj\n<< /Title (${title}) /Producer (hand-written update) >>\nendobj\n`;
  const xrefOffset = input.length + obj.length;
  const xref = `xref\n${size} 1\n${String(objOffset).padStart(10, '0')} 00000 n\r\ntrailer\n<< /Size ${size + 1} /Root ${root} /Info ${size} 0 R /Prev ${startxref} >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.concat([input, Buffer.from(obj + xref, 'latin1')]);
}

/** A PDF of about `megabytes` MB: `pages` pages, one carrying a large incompressible image. */
export async function makeLargePdf(megabytes: number, pages = 3): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const side = Math.ceil(Math.sqrt((megabytes * 1024 * 1024) / 3));
  const pixels = randomBytes(side * side * 3);
  const imageRef = pdf.context.register(
    pdf.context.stream(pixels, { Type: 'XObject', Subtype: 'Image', Width: side, Height: side, ColorSpace: 'DeviceRGB', BitsPerComponent: 8 }),
  );
  for (let i = 0; i < pages; i++) {
    const page = pdf.addPage([595.28, 841.89]);
    page.drawText(`Large document page ${i + 1}`, { x: 56, y: 760, size: 18, font });
    if (i === 0) {
      const name = page.node.newXObject('Im', imageRef);
      page.pushOperators(pushGraphicsState(), concatTransformationMatrix(400, 0, 0, 400, 100, 200), drawObject(name), popGraphicsState());
    }
  }
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}
