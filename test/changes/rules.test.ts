/**
 * The change rules one by one, on documents built here: each rule explains what it should and
 * nothing else, and the judgement follows DocMDP and FieldMDP.
 */
import { describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { IncrementalUpdate } from '../../src/pdf/incremental.js';
import { decodeStream } from '../../src/pdf/filters.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from '../../src/pdf/objects.js';
import { addSignatureField } from '../../src/pdf/signature-field.js';
import { lockCovers } from '../../src/pdf/signatures.js';
import { addValidationData } from '../../src/signing/ltv.js';
import { analyseRevisions } from '../../src/validation/changes/analyse.js';
import { judgeChange, type ModificationConstraints } from '../../src/validation/changes/permissions.js';
import type { ExplainedChange } from '../../src/validation/changes/types.js';
import { appendInfoUpdate, makePdf, qpdfRewrite } from '../helpers/pdfs.js';
import { appendRawUpdate, fillTextField, firstPage, makeFormPdf, streamBody } from '../attacks/craft.js';

function update(pdf: Buffer, build: (doc: PdfDocument, u: IncrementalUpdate) => void): Buffer {
  const doc = PdfDocument.load(pdf);
  const u = new IncrementalUpdate(doc);
  build(doc, u);
  return Buffer.concat([pdf, u.write()]);
}

/** The explained changes of the newest revision. */
function lastStep(pdf: Buffer): ExplainedChange[] {
  const steps = analyseRevisions(PdfDocument.load(pdf));
  return steps[steps.length - 1]!;
}

const rulesOf = (changes: ExplainedChange[]): string[] => [...new Set(changes.map((c) => c.rule))].sort();

const noConstraints: ModificationConstraints = { locks: [], signatureValidates: () => true };

describe('change rules', () => {
  it('signature-fields, acroform, page-annotations: an invisible signature field added', async () => {
    const pdf = update(await makePdf(1), (_doc, u) => {
      addSignatureField(u, { subFilter: 'ETSI.CAdES.detached', contentsSize: 16, widgets: [] });
    });
    const changes = lastStep(pdf);
    expect(changes.every((c) => c.need !== 'never'), JSON.stringify(changes)).toBe(true);
    expect(rulesOf(changes)).toEqual(expect.arrayContaining(['catalog', 'signature-fields']));
    expect(changes.filter((c) => c.rule === 'signature-fields').some((c) => c.signatureDict !== undefined)).toBe(true);
  });

  it('document-timestamp: always allowed', async () => {
    const pdf = update(await makePdf(1), (_doc, u) => {
      addSignatureField(u, { subFilter: 'ETSI.RFC3161', contentsSize: 16, widgets: [] });
    });
    const changes = lastStep(pdf);
    expect(changes.some((c) => c.rule === 'document-timestamp' && c.need === 'always')).toBe(true);
    expect(changes.every((c) => judgeChange(c, { ...noConstraints, certification: { revision: 0, permission: 1, field: 'x' } }).permitted)).toBe(true);
  });

  it('dss: validation data added, always allowed, even under P=1', async () => {
    const pdf = addValidationData(await makePdf(1), { certificates: [Buffer.from('cert')], crls: [Buffer.from('crl')], ocspResponses: [Buffer.from('ocsp')] });
    const changes = lastStep(pdf);
    expect(rulesOf(changes)).toEqual(['catalog', 'dss']);
    expect(changes.every((c) => judgeChange(c, { ...noConstraints, certification: { revision: 0, permission: 1, field: 'x' } }).permitted)).toBe(true);
  });

  it('dss: an object of the signed revision listed as evidence is not explained by it', async () => {
    const base = await makePdf(1);
    const contentNum = firstPage(base).contents[0]!;
    const pdf = update(base, (doc, u) => {
      u.set(new PdfRef(contentNum, 0), new PdfStream(new PdfDict(), Buffer.from('BT (X) Tj ET')));
      const dss = u.add(new PdfDict([['Certs', [new PdfRef(contentNum, 0)]]]));
      u.set(doc.rootRef, doc.catalog().clone().set('DSS', dss));
    });
    const content = lastStep(pdf).find((c) => c.object === contentNum)!;
    expect(content.rule).toBe('default-deny');
    expect(content.need).toBe('never');
  });

  it('page-annotations and annotations: a comment needs P=3 or no certification; a removed one is never allowed', async () => {
    const base = await makePdf(1);
    const withNote = update(base, (doc, u) => {
      const page = doc.pages()[0]!;
      const note = u.add(new PdfDict([['Type', PdfName.of('Annot')], ['Subtype', PdfName.of('Text')], ['Rect', [10, 10, 30, 30]], ['P', page.ref]]));
      u.set(page.ref, page.dict.clone().set('Annots', [note]));
    });
    const changes = lastStep(withNote);
    expect(rulesOf(changes)).toEqual(['annotations', 'page-annotations']);
    const annot = changes.find((c) => c.rule === 'annotations')!;
    expect(annot.overlay).toBe(true);
    expect(judgeChange(annot, noConstraints).permitted).toBe(true);
    expect(judgeChange(annot, { ...noConstraints, certification: { revision: 0, permission: 3, field: 'c' } }).permitted).toBe(true);
    expect(judgeChange(annot, { ...noConstraints, certification: { revision: 0, permission: 2, field: 'c' } })).toMatchObject({ permitted: false, attack: 'evil-annotation' });
    const removed = update(withNote, (doc, u) => {
      const page = doc.pages()[0]!;
      u.set(page.ref, page.dict.clone().set('Annots', []));
    });
    expect(lastStep(removed).find((c) => c.rule === 'page-annotations')!.need).toBe('never');
  });

  it('form-fill: a text field filled in; FieldMDP locks the fields they name', async () => {
    const filled = fillTextField(await makeFormPdf(), 'applicant', 'Zhang San');
    const changes = lastStep(filled);
    expect(rulesOf(changes)).toEqual(['form-fill']);
    const fill = changes[0]!;
    expect(fill.field).toBe('applicant');
    expect(judgeChange(fill, { ...noConstraints, certification: { revision: 0, permission: 2, field: 'c' } }).permitted).toBe(true);
    expect(judgeChange(fill, { ...noConstraints, certification: { revision: 0, permission: 1, field: 'c' } }).permitted).toBe(false);
    const lock = { action: 'Include' as const, fields: ['applicant'] };
    expect(judgeChange(fill, { ...noConstraints, locks: [{ revision: 0, by: 'sig', locks: (n) => lockCovers(lock, n) }] }).permitted).toBe(false);
    expect(lockCovers({ action: 'Exclude', fields: ['applicant'] }, 'applicant')).toBe(false);
    expect(lockCovers({ action: 'Exclude', fields: ['applicant'] }, 'notes')).toBe(true);
    expect(lockCovers({ action: 'All', fields: [] }, 'anything')).toBe(true);
    expect(lockCovers({ action: 'Include', fields: ['a'] }, 'a.b')).toBe(true);
  });

  it('metadata: /Info and XMP changes are reported and allowed, even under P=1 (they are not displayed)', async () => {
    const changes = lastStep(appendInfoUpdate(await makePdf(1), 'renamed'));
    expect(changes.map((c) => [c.rule, c.category])).toEqual([['metadata', 'metadata']]);
    expect(judgeChange(changes[0]!, noConstraints).permitted).toBe(true);
    expect(judgeChange(changes[0]!, { ...noConstraints, certification: { revision: 0, permission: 1, field: 'c' } }).permitted).toBe(true);
  });

  it('object-streams: an update written with an xref stream and an object stream is structure', async () => {
    const streams = qpdfRewrite(await makePdf(1), ['--object-streams=generate']);
    const pdf = update(streams, (_doc, u) => {
      addSignatureField(u, { subFilter: 'ETSI.CAdES.detached', contentsSize: 16, widgets: [] });
    });
    const changes = lastStep(pdf);
    expect(changes.some((c) => c.rule === 'object-streams' && c.need === 'always'), JSON.stringify(changes)).toBe(true);
    expect(changes.every((c) => c.need !== 'never')).toBe(true);
  });

  it('unreferenced: an added object nothing uses is reported, not refused', async () => {
    const base = await makePdf(1);
    const pdf = appendRawUpdate(base, [{ num: PdfDocument.load(base).size, body: streamBody('', 'orphan') }]);
    const changes = lastStep(pdf);
    expect(changes.map((c) => [c.rule, c.need])).toEqual([['unreferenced', 'always']]);
  });

  it('catalog: /OpenAction is never allowed and named', async () => {
    const pdf = update(await makePdf(1), (doc, u) => {
      u.set(doc.rootRef, doc.catalog().clone().set('OpenAction', new PdfDict([['S', PdfName.of('JavaScript')], ['JS', PdfString.fromText('1')]])));
    });
    expect(lastStep(pdf)).toMatchObject([{ rule: 'catalog', need: 'never', attack: 'actions-added' }]);
  });

  it('signature: under certification only a signature that validates is allowed (sneaky signature)', () => {
    const change: ExplainedChange = { object: 9, revision: 2, kind: 'added', rule: 'signature-fields', category: 'signing', need: 'signature', description: 'x', signatureDict: 9 };
    const cert = { revision: 1, permission: 2 as const, field: 'c' };
    expect(judgeChange(change, { ...noConstraints, certification: cert }).permitted).toBe(true);
    expect(judgeChange(change, { locks: [], certification: cert, signatureValidates: () => false })).toMatchObject({ permitted: false, attack: 'sneaky-signature' });
    expect(judgeChange(change, { locks: [], signatureValidates: () => false }).permitted).toBe(true);
    expect(judgeChange(change, { ...noConstraints, certification: { ...cert, permission: 1 } }).permitted).toBe(false);
    // a change made before the certification is not judged by it
    expect(judgeChange({ ...change, revision: 1 }, { ...noConstraints, certification: { ...cert, permission: 1 } }).permitted).toBe(true);
  });

  it('a stream written again with another encoding is no change; a different content is one', async () => {
    const base = await makePdf(1);
    const contentNum = firstPage(base).contents[0]!;
    const doc = PdfDocument.load(base);
    const original = doc.getObject(contentNum) as PdfStream;
    const plainText = decodeStream(original);
    const recompressed = update(base, (_d, u) => u.set(new PdfRef(contentNum, 0), new PdfStream(new PdfDict(), plainText)));
    expect(lastStep(recompressed)).toEqual([]);
    const changed = update(base, (_d, u) => u.set(new PdfRef(contentNum, 0), new PdfStream(new PdfDict(), Buffer.concat([plainText, Buffer.from(' BT (x) Tj ET')]))));
    expect(lastStep(changed)).toMatchObject([{ object: contentNum, rule: 'default-deny', need: 'never', attack: 'incremental-saving' }]);
  });

  it('an object the document never used may be deleted; a used one may not', async () => {
    const base = await makePdf(1);
    const orphanNum = PdfDocument.load(base).size;
    const withOrphan = appendRawUpdate(base, [{ num: orphanNum, body: '<< /Unused true >>' }]);
    expect(lastStep(appendRawUpdate(withOrphan, [], { free: [orphanNum] }))).toMatchObject([{ object: orphanNum, kind: 'deleted', rule: 'unreferenced', need: 'always' }]);
    const contentNum = firstPage(base).contents[0]!;
    expect(lastStep(appendRawUpdate(base, [], { free: [contentNum] }))).toMatchObject([{ object: contentNum, kind: 'deleted', need: 'never' }]);
  });

  it('acroform: the default resources may gain a font, an existing font may not change', async () => {
    // a form whose /DR /Font is an indirect dictionary with one font, as signing tools write it
    const form = update(await makeFormPdf(), (d, u) => {
      const helv = u.add(new PdfDict([['Type', PdfName.of('Font')], ['Subtype', PdfName.of('Type1')], ['BaseFont', PdfName.of('Helvetica')]]));
      const fontDict = u.add(new PdfDict([['Helv', helv]]));
      const formRef = d.catalog().get('AcroForm');
      const resources = new PdfDict([['Font', fontDict]]);
      if (formRef instanceof PdfRef) u.set(formRef, d.resolveDict(formRef)!.clone().set('DR', resources));
      else u.set(d.rootRef, d.catalog().clone().set('AcroForm', d.resolveDict(formRef)!.clone().set('DR', resources)));
    });
    const doc = PdfDocument.load(form);
    const acroForm = doc.resolveDict(doc.catalog().get('AcroForm'))!;
    const fontsRef = doc.resolveDict(acroForm.get('DR'))!.get('Font');
    expect(fontsRef).toBeInstanceOf(PdfRef);
    const fonts = doc.resolveDict(fontsRef)!;
    const added = update(form, (_d, u) => {
      const font = u.add(new PdfDict([['Type', PdfName.of('Font')], ['Subtype', PdfName.of('Type1')], ['BaseFont', PdfName.of('Courier')]]));
      u.set(fontsRef as PdfRef, fonts.clone().set('Cour', font));
    });
    expect(lastStep(added).every((c) => c.rule === 'acroform' && c.need === 'always'), JSON.stringify(lastStep(added))).toBe(true);
    const existingFont = [...fonts.entries.values()].find((v): v is PdfRef => v instanceof PdfRef)!;
    const swapped = update(form, (d, u) => u.set(existingFont, d.resolveDict(existingFont)!.clone().set('BaseFont', PdfName.of('Courier'))));
    expect(lastStep(swapped)).toMatchObject([{ object: existingFont.num, need: 'never' }]);
    // the resource dictionary may be shared with a page: pointing an existing name elsewhere is a change
    const repointed = update(form, (_d, u) => {
      const other = u.add(new PdfDict([['Type', PdfName.of('Font')], ['Subtype', PdfName.of('Type1')], ['BaseFont', PdfName.of('Times-Roman')]]));
      u.set(fontsRef as PdfRef, fonts.clone().set('Helv', other));
    });
    expect(lastStep(repointed).find((c) => c.object === (fontsRef as PdfRef).num)).toMatchObject({ need: 'never' });
  });
});

