import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PdfDocument } from '../../src/pdf/document.js';
import { IncrementalUpdate } from '../../src/pdf/incremental.js';
import { PdfDict, PdfName, PdfStream } from '../../src/pdf/objects.js';
import { prepareImage } from '../../src/pdf/image.js';
import { addSignatureField, fillByteRange, fillContents } from '../../src/pdf/signature-field.js';
import { PadesCmsBuilder } from '../../src/pki/cms-signer.js';
import { KeyObjectSigner } from '../../src/pki/key-object-signer.js';
import { readPkcs12 } from '../../src/pki/pfx.js';
import type { Issued } from '../../src/devpki/issue.js';
import { sealDocument, type SealMaterial } from '../../src/signing/pades.js';

/** The dev PKI's seal CA (certificate + key) from a service data dir. */
export function devSealCa(dataDir: string): { ca: Issued; chain: Buffer[] } {
  const pki = path.join(dataDir, 'pki');
  const { privateKey, chainDer } = readPkcs12(readFileSync(path.join(pki, 'seal-ca.p12')), readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim());
  return { ca: { certDer: chainDer[0]!, privateKey }, chain: chainDer };
}

const tinyImage = prepareImage({ width: 2, height: 2, rgb: Buffer.alloc(12, 200), alpha: Buffer.alloc(4, 255) });

export function material(seal: Issued, chainRest: Buffer[]): SealMaterial {
  return { cms: new PadesCmsBuilder([seal.certDer, ...chainRest], new KeyObjectSigner(seal.privateKey)), image: tinyImage, signerName: 'test' };
}

/** Seals through the library path, without the service's checks (to make deliberately bad seals). */
export async function sealWith(pdf: Buffer, m: SealMaterial, docMdp?: 1 | 2 | 3): Promise<Buffer> {
  const out = await sealDocument(PdfDocument.load(pdf), m, { placement: { kind: 'stamp', pageIndex: 0, centerX: 100, centerY: 100, size: 60 }, docMdp });
  return Buffer.concat([out.original, out.appended]);
}

/**
 * Lays out an invisible signature field and lets `sign` produce the CMS for the byte ranges;
 * `ranges` may be altered first, to make signatures that leave bytes out.
 */
export async function signWithCustomRanges(
  pdf: Buffer,
  contentsSize: number,
  subFilter: 'adbe.pkcs7.detached' | 'ETSI.CAdES.detached' | 'adbe.pkcs7.sha1',
  sign: (signedBytes: Buffer) => Promise<Buffer> | Buffer,
  alterRanges?: (ranges: [number, number, number, number]) => [number, number, number, number],
): Promise<Buffer> {
  const doc = PdfDocument.load(pdf);
  const update = new IncrementalUpdate(doc);
  const holes = addSignatureField(update, { subFilter: 'ETSI.CAdES.detached', contentsSize, signingTime: new Date(), widgets: [] });
  const appended = update.write();
  if (subFilter !== 'ETSI.CAdES.detached') {
    const at = appended.indexOf('/ETSI.CAdES.detached');
    appended.write(`/${subFilter}`.padEnd('/ETSI.CAdES.detached'.length, ' '), at, 'latin1');
  }
  let ranges = fillByteRange(appended, pdf.length, holes);
  const full = Buffer.concat([pdf, appended]);
  if (alterRanges) {
    ranges = alterRanges(ranges);
    const text = `[${ranges.join(' ')}]`.padEnd(holes.byteRange.length, ' ');
    full.write(text, pdf.length + holes.byteRange.offset, 'latin1');
  }
  const signed = Buffer.concat([full.subarray(ranges[0], ranges[0] + ranges[1]), full.subarray(ranges[2], ranges[2] + ranges[3])]);
  const cms = await sign(signed);
  const tail = full.subarray(pdf.length);
  fillContents(tail, holes, cms);
  return full;
}

/** Replaces page 1's content with new drawing, by incremental update: a change that is never permitted. */
export function changePageContent(pdf: Buffer): Buffer {
  const doc = PdfDocument.load(pdf);
  const update = new IncrementalUpdate(doc);
  const page = doc.pages()[0]!;
  const stream = update.add(new PdfStream(new PdfDict(), Buffer.from('BT /F1 24 Tf 100 500 Td (FORGED) Tj ET')));
  update.set(page.ref, page.dict.clone().set('Contents', stream));
  return Buffer.concat([pdf, update.write()]);
}

/** Adds a white square annotation over page 1 by incremental update: the classic overlay. */
export function addOverlayAnnotation(pdf: Buffer): Buffer {
  const doc = PdfDocument.load(pdf);
  const update = new IncrementalUpdate(doc);
  const page = doc.pages()[0]!;
  const annot = update.add(
    new PdfDict([
      ['Type', PdfName.of('Annot')],
      ['Subtype', PdfName.of('Square')],
      ['Rect', [50, 700, 400, 800]],
      ['IC', [1, 1, 1]],
      ['P', page.ref],
    ]),
  );
  const annots = doc.resolve(page.dict.get('Annots'));
  update.set(page.ref, page.dict.clone().set('Annots', [...(Array.isArray(annots) ? annots : []), annot]));
  return Buffer.concat([pdf, update.write()]);
}
