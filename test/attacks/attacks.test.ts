/**
 * Every published attack class on PDF signatures, built from a PDF this service sealed, and the
 * legitimate sequences that must keep passing. Each attacked file must not be TOTAL_PASSED, its
 * change must be not permitted, and the report must name what changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, issueSealCertificate, KEY_USAGE, validityYears } from '../../src/devpki/issue.js';
import { PdfDocument } from '../../src/pdf/document.js';
import { IncrementalUpdate } from '../../src/pdf/incremental.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from '../../src/pdf/objects.js';
import type { ChangeReport, SignatureReport, ValidationReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, sealRequest, startService, type RunningService } from '../helpers/service.js';
import { qpdfCheck, writeTemp } from '../helpers/tools.js';
import { addOverlayAnnotation, changePageContent, devSealCa, material, sealWith } from '../validation/fixtures.js';
import { appendRawUpdate, definitionAfter, fillTextField, firstPage, makeFormPdf, offsetOf, pageWith, signWithSigDictExtras, streamBody } from './craft.js';

let svc: RunningService;
let plain: Buffer;
let sealed: Buffer;

beforeAll(async () => {
  svc = await startService();
  plain = await makePdf(2);
  sealed = await sealOk(svc, plain, { sealId: 'scjg-official' });
});
afterAll(async () => svc?.close());

async function verify(pdf: Buffer): Promise<ValidationReport> {
  const res = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ValidationReport;
}

function forbidden(sig: SignatureReport): ChangeReport[] {
  return sig.changesAfterSigning.changes.filter((c) => !c.permitted);
}

/** The first signature is not passed, its changes are not permitted, and the report names the change. */
async function expectCaught(pdf: Buffer, named: { attack?: string; object?: number; page?: number; text?: RegExp }): Promise<SignatureReport> {
  const report = await verify(pdf);
  const sig = report.signatures[0]!;
  expect(sig.indication).not.toBe('TOTAL_PASSED');
  expect(sig.changesAfterSigning.permitted).toBe(false);
  const bad = forbidden(sig);
  const detail = JSON.stringify(bad, null, 1);
  if (named.attack) expect(bad.some((c) => c.attack === named.attack), detail).toBe(true);
  if (named.object !== undefined) expect(bad.some((c) => c.object === named.object), detail).toBe(true);
  if (named.page !== undefined) expect(bad.some((c) => c.pages?.includes(named.page!)), detail).toBe(true);
  if (named.text) expect(bad.map((c) => `${c.description} ${c.reason ?? ''}`).join(' | ')).toMatch(named.text);
  expect(sig.problems.join(' ')).toMatch(/not permitted/);
  return sig;
}

/** A plain PDF with an extra update (before sealing) made by `build`. */
function preUpdate(pdf: Buffer, build: (doc: PdfDocument, update: IncrementalUpdate) => void): Buffer {
  const doc = PdfDocument.load(pdf);
  const update = new IncrementalUpdate(doc);
  build(doc, update);
  return Buffer.concat([pdf, update.write()]);
}

const forgedContent = 'BT /F1 30 Tf 60 700 Td (FORGED: licence revoked) Tj ET';

describe('incremental saving attacks', () => {
  it('new page content', async () => {
    const { ref } = firstPage(sealed);
    await expectCaught(changePageContent(sealed), { attack: 'incremental-saving', object: ref.num, page: 1, text: /page 1 changed: Contents/ });
    expect((await verify(changePageContent(sealed))).document.summary).toMatch(/changes after its last signature/);
  });

  it('content stream of the signed page rewritten in place', async () => {
    const { contents } = firstPage(sealed);
    const attacked = appendRawUpdate(sealed, [{ num: contents[0]!, body: streamBody('', forgedContent) }]);
    await expectCaught(attacked, { attack: 'incremental-saving', object: contents[0]!, page: 1 });
  });

  it('a new page', async () => {
    const doc = PdfDocument.load(sealed);
    const update = new IncrementalUpdate(doc);
    const pagesRef = doc.catalog().get('Pages') as PdfRef;
    const pages = doc.resolveDict(pagesRef)!;
    const page = update.add(new PdfDict([['Type', PdfName.of('Page')], ['Parent', pagesRef], ['MediaBox', [0, 0, 595, 842]]]));
    update.set(pagesRef, pages.clone().set('Kids', [...(pages.get('Kids') as PdfRef[]), page]).set('Count', (pages.get('Count') as number) + 1));
    await expectCaught(Buffer.concat([sealed, update.write()]), { attack: 'incremental-saving', object: pagesRef.num, text: /page tree/ });
  });

  it('the appearance of an existing annotation changed', async () => {
    const withNote = addOverlayAnnotation(plain);
    const signed = await sealOk(svc, withNote, { sealId: 'scjg-official' });
    const doc = PdfDocument.load(signed);
    const annotRef = (doc.resolve(doc.pages()[0]!.dict.get('Annots')) as PdfRef[]).find((a) => doc.resolveDict(a)?.get('Subtype') === PdfName.of('Square'))!;
    const update = new IncrementalUpdate(doc);
    const ap = update.add(new PdfStream(new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 350, 100]]]), Buffer.from(forgedContent)));
    update.set(annotRef, doc.resolveDict(annotRef)!.clone().set('AP', new PdfDict([['N', ap]])));
    await expectCaught(Buffer.concat([signed, update.write()]), { object: annotRef.num });
  });
});

describe('signature wrapping and universal signature forgery', () => {
  const byteRangeOf = (pdf: Buffer): { at: number; text: string; values: number[] } => {
    const text = pdf.toString('latin1');
    const at = text.lastIndexOf('/ByteRange');
    const m = /\/ByteRange\s*\[([^\]]*)\]/.exec(text.slice(at))!;
    return { at: at + text.slice(at).indexOf('[') , text: m[0], values: m[1]!.trim().split(/\s+/).map(Number) };
  };

  it('signature wrapping: the second signed range moved to the end, new objects in the gap', async () => {
    const [a, b, c, d] = byteRangeOf(sealed).values as [number, number, number, number];
    const malicious = Buffer.from(`\n${forgedContent}\n`);
    const moved = Buffer.concat([sealed.subarray(0, c), malicious, sealed.subarray(c, c + d)]);
    const { at, text } = byteRangeOf(moved);
    const newRange = `[${a} ${b} ${c + malicious.length} ${d}]`.padEnd(text.length - '/ByteRange '.length, ' ');
    moved.write(newRange, at, 'latin1');
    const sig = (await verify(moved)).signatures[0]!;
    expect(sig.indication).toBe('TOTAL_FAILED');
    expect(['HASH_FAILURE', 'FORMAT_FAILURE']).toContain(sig.subIndication);
  });

  for (const [label, contents, byteRange] of [
    ['empty /Contents', '<>', undefined],
    ['null /Contents', 'null', undefined],
    ['malformed /Contents', '<zz>', undefined],
    ['missing /ByteRange', undefined, ''],
    ['null /ByteRange', undefined, 'null'],
    ['/ByteRange of zeros', undefined, '[0 0 0 0]'],
    ['negative /ByteRange', undefined, '[0 -1 5 10]'],
    ['/ByteRange of names', undefined, '[/a /b /c /d]'],
  ] as const) {
    it(`universal signature forgery: ${label}`, async () => {
      const text = sealed.toString('latin1');
      let forged = text;
      if (contents !== undefined) {
        const start = text.lastIndexOf('/Contents <');
        const end = text.indexOf('>', start) + 1;
        forged = text.slice(0, start) + `/Contents ${contents}`.padEnd(end - start, ' ') + text.slice(end);
      }
      if (byteRange !== undefined) {
        const start = text.lastIndexOf('/ByteRange');
        const end = text.indexOf(']', start) + 1;
        forged = forged.slice(0, start) + (byteRange ? `/ByteRange ${byteRange}` : '').padEnd(end - start, ' ') + forged.slice(end);
      }
      const report = await verify(Buffer.from(forged, 'latin1'));
      for (const sig of report.signatures) {
        expect(sig.indication).not.toBe('TOTAL_PASSED');
        expect([sig.indication, sig.subIndication]).toEqual(['TOTAL_FAILED', 'FORMAT_FAILURE']);
      }
      expect(report.document.passed).toBe(0);
    });
  }
});

describe('shadow attacks', () => {
  it('hide: an overlay of the signed revision is switched off by an xref entry pointing at an unused empty object', async () => {
    // Signed revision: page 1 draws a white box (form XObject) over its text; an empty form with
    // the same object number sits unused in the body.
    let overlayNum = 0;
    const prepared = preUpdate(plain, (doc, update) => {
      const page = doc.pages()[0]!;
      const overlay = update.add(new PdfStream(new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 595, 842]]]), Buffer.from('1 1 1 rg 40 740 500 60 re f')));
      overlayNum = overlay.num;
      const draw = update.add(new PdfStream(new PdfDict(), Buffer.from('q /Ov Do Q')));
      const resources = (page.resources ?? new PdfDict()).clone();
      const xobjects = (doc.resolveDict(resources.get('XObject')) ?? new PdfDict()).clone().set('Ov', overlay);
      resources.set('XObject', xobjects);
      const contents = page.dict.get('Contents');
      update.set(page.ref, page.dict.clone().set('Resources', resources).set('Contents', [...(Array.isArray(contents) ? contents : [contents!]), draw]));
    });
    const withShadow = appendRawUpdate(prepared, [{ num: PdfDocument.load(prepared).size, body: '<< /Producer (editor) >>' }], {
      unlisted: [{ num: overlayNum, body: streamBody('/Type /XObject /Subtype /Form /BBox [0 0 1 1]', '') }],
    });
    const signed = await sealOk(svc, withShadow, { sealId: 'scjg-official' });
    const hidden = definitionAfter(signed, overlayNum, prepared.length);
    const attacked = appendRawUpdate(signed, [], { pointAt: [{ num: overlayNum, offset: hidden }] });
    await expectCaught(attacked, { object: overlayNum, page: 1 });
  });

  it('replace: the page content is switched to a forged definition hidden in the signed revision', async () => {
    const { contents } = firstPage(plain);
    const withShadow = appendRawUpdate(plain, [{ num: PdfDocument.load(plain).size, body: '<< /Producer (editor) >>' }], {
      unlisted: [{ num: contents[0]!, body: streamBody('', forgedContent) }],
    });
    const signed = await sealOk(svc, withShadow, { sealId: 'scjg-official' });
    const hidden = definitionAfter(signed, contents[0]!, plain.length);
    const attacked = appendRawUpdate(signed, [], { pointAt: [{ num: contents[0]!, offset: hidden }] });
    await expectCaught(attacked, { attack: 'incremental-saving', object: contents[0]!, page: 1 });
  });

  it('hide-and-replace: the page object is switched to a shadow page present but unused at signing', async () => {
    const { ref, dict } = firstPage(plain);
    const size = PdfDocument.load(plain).size;
    const withShadow = appendRawUpdate(plain, [{ num: size, body: '<< /Producer (editor) >>' }], {
      unlisted: [
        { num: size + 1, body: streamBody('', forgedContent) },
        { num: ref.num, body: pageWith(dict, { Contents: `${size + 1} 0 R` }) },
      ],
    });
    const signed = await sealOk(svc, withShadow, { sealId: 'scjg-official' });
    const shadowPage = definitionAfter(signed, ref.num, plain.length);
    // The seal's own update rewrote the page (it added the seal's widget): the attacker points at the shadow.
    const attacked = appendRawUpdate(signed, [], { pointAt: [{ num: ref.num, offset: shadowPage }] });
    await expectCaught(attacked, { object: ref.num, page: 1 });
  });
});

describe('certification attacks', () => {
  it('evil annotation: an annotation added under DocMDP P=2', async () => {
    const certified = await sealOk(svc, plain, { sealId: 'scjg-official', certify: '2' });
    await expectCaught(addOverlayAnnotation(certified), { attack: 'evil-annotation', page: 1 });
  });

  it('sneaky signature: a visible signature by an untrusted signer added under DocMDP P=2', async () => {
    const certified = await sealOk(svc, plain, { sealId: 'scjg-official', certify: '2' });
    const root = await issueCertificate({ subject: [['CN', 'Attacker Root']], keyKind: 'ec', ...validityYears(2), ca: {}, keyUsage: KEY_USAGE.keyCertSign });
    const leaf = await issueSealCertificate({ orgName: '冒名局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url }, root);
    const sneaky = await sealWith(certified, material(leaf, [root.certDer]));
    await expectCaught(sneaky, { attack: 'sneaky-signature' });
  });

  it('a certification removed from the catalog after signing', async () => {
    const certified = await sealOk(svc, plain, { sealId: 'scjg-official', certify: '1' });
    const doc = PdfDocument.load(certified);
    const update = new IncrementalUpdate(doc);
    const catalog = doc.catalog().clone();
    catalog.delete('Perms');
    update.set(doc.rootRef, catalog);
    const sig = await expectCaught(Buffer.concat([certified, update.write()]), { object: doc.rootRef.num, text: /Perms/ });
    expect(sig.certification).toEqual({ permission: 1 });
  });

  it('a signature that carries a DocMDP reference but is not the catalog\'s certification certifies nothing', async () => {
    const approval = await sealOk(svc, plain, { sealId: 'scjg-official' });
    const text = approval.toString('latin1');
    // remove /Perms from the catalog written by a certification, keeping the reference in the signature
    const certified = await sealOk(svc, plain, { sealId: 'scjg-official', certify: '1' });
    const stripped = Buffer.from(certified.toString('latin1').replace(/\/Perms\s*<<\s*\/DocMDP\s+\d+ 0 R\s*>>/, (m) => ' '.repeat(m.length)), 'latin1');
    expect(stripped.equals(certified)).toBe(false);
    const report = await verify(stripped);
    const sig = report.signatures[0]!;
    expect(sig.certification).toBeNull();
    expect(sig.problems.join(' ')).toMatch(/does not name it as the certification/);
    expect(text.length).toBeGreaterThan(0);
  });
});

describe('signature fields and annotations tampered with', () => {
  it('the appearance of a signed seal replaced', async () => {
    const doc = PdfDocument.load(sealed);
    const page = doc.pages()[doc.pages().length - 1]!; // the seal goes on the last page
    const widgetRef = (doc.resolve(page.dict.get('Annots')) as PdfRef[]).find((a) => doc.resolveDict(a)?.get('Subtype') === PdfName.of('Widget'))!;
    const update = new IncrementalUpdate(doc);
    const ap = update.add(new PdfStream(new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 100, 100]]]), Buffer.from(forgedContent)));
    update.set(widgetRef, doc.resolveDict(widgetRef)!.clone().set('AP', new PdfDict([['N', ap]])));
    await expectCaught(Buffer.concat([sealed, update.write()]), { object: widgetRef.num });
  });

  it('sneaky signature: a new visible field that shows the existing signature dictionary', async () => {
    const doc = PdfDocument.load(sealed);
    const page = doc.pages()[0]!;
    const acroFormRef = doc.catalog().get('AcroForm');
    const acroForm = doc.resolveDict(acroFormRef)!;
    const existing = doc.resolveDict((doc.resolve(acroForm.get('Fields')) as PdfRef[])[0])!.get('V') as PdfRef;
    const update = new IncrementalUpdate(doc);
    const ap = update.add(new PdfStream(new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 300, 60]]]), Buffer.from(forgedContent)));
    const field = update.add(
      new PdfDict([
        ['FT', PdfName.of('Sig')],
        ['T', PdfString.fromText('Approval2')],
        ['V', existing],
        ['Type', PdfName.of('Annot')],
        ['Subtype', PdfName.of('Widget')],
        ['Rect', [50, 700, 350, 760]],
        ['P', page.ref],
        ['AP', new PdfDict([['N', ap]])],
      ]),
    );
    const fields = doc.resolve(acroForm.get('Fields')) as PdfRef[];
    const newForm = acroForm.clone().set('Fields', [...fields, field]);
    if (acroFormRef instanceof PdfRef) update.set(acroFormRef, newForm);
    else update.set(doc.rootRef, doc.catalog().clone().set('AcroForm', newForm));
    update.set(page.ref, page.dict.clone().set('Annots', [...(doc.resolve(page.dict.get('Annots')) as PdfRef[]), field]));
    await expectCaught(Buffer.concat([sealed, update.write()]), { attack: 'sneaky-signature', object: field.num });
  });

  it('a copy of the signature dictionary in a new visible field is not a signature of its own', async () => {
    const doc = PdfDocument.load(sealed);
    const page = doc.pages()[0]!;
    const acroFormRef = doc.catalog().get('AcroForm');
    const acroForm = doc.resolveDict(acroFormRef)!;
    const fields = doc.resolve(acroForm.get('Fields')) as PdfRef[];
    const original = doc.resolveDict(doc.resolveDict(fields[0])!.get('V'))!;
    const update = new IncrementalUpdate(doc);
    const copy = update.add(original.clone());
    const ap = update.add(new PdfStream(new PdfDict([['Type', PdfName.of('XObject')], ['Subtype', PdfName.of('Form')], ['BBox', [0, 0, 300, 60]]]), Buffer.from(forgedContent)));
    const field = update.add(
      new PdfDict([['FT', PdfName.of('Sig')], ['T', PdfString.fromText('Copy')], ['V', copy], ['Type', PdfName.of('Annot')], ['Subtype', PdfName.of('Widget')], ['Rect', [50, 700, 350, 760]], ['P', page.ref], ['AP', new PdfDict([['N', ap]])]]),
    );
    const newForm = acroForm.clone().set('Fields', [...fields, field]);
    if (acroFormRef instanceof PdfRef) update.set(acroFormRef, newForm);
    else update.set(doc.rootRef, doc.catalog().clone().set('AcroForm', newForm));
    update.set(page.ref, page.dict.clone().set('Annots', [...((doc.resolve(page.dict.get('Annots')) as PdfRef[] | undefined) ?? []), field]));
    const report = await verify(Buffer.concat([sealed, update.write()]));
    const copied = report.signatures.find((s) => s.fieldName === 'Copy')!;
    expect([copied.indication, copied.subIndication]).toEqual(['TOTAL_FAILED', 'FORMAT_FAILURE']);
    expect(copied.problems.join(' ')).toMatch(/not part of the revision it signs/);
    const genuine = report.signatures.find((s) => s.fieldName !== 'Copy')!;
    expect(genuine.changesAfterSigning.changes.some((c) => c.overlay)).toBe(true);
    expect(report.document.passed).toBe(1);
  });

  it('the annotations of a signed page reordered', async () => {
    const signed = await sealOk(svc, addOverlayAnnotation(plain), { sealId: 'scjg-official', page: '1' });
    const doc = PdfDocument.load(signed);
    const page = doc.pages()[0]!;
    const annots = doc.resolve(page.dict.get('Annots')) as PdfRef[];
    expect(annots.length).toBeGreaterThanOrEqual(2);
    const update = new IncrementalUpdate(doc);
    update.set(page.ref, page.dict.clone().set('Annots', [...annots].reverse()));
    await expectCaught(Buffer.concat([signed, update.write()]), { object: page.ref.num, text: /reordered/ });
  });
});

describe('xref and object stream tricks', () => {
  it('hybrid xref: the table and its /XRefStm give one object two places', async () => {
    const { contents } = firstPage(sealed);
    const c = contents[0]!;
    const size = PdfDocument.load(sealed).size;
    const original = offsetOf(sealed, c);
    // body: a forged content stream under a fresh number, then an xref stream saying object c is there
    let body = '\n';
    const forgedAt = sealed.length + body.length;
    body += `${size} 0 obj\n${streamBody('', forgedContent)}\nendobj\n`;
    const row = (type: number, f2: number, f3: number): Buffer => Buffer.from([type, (f2 >>> 24) & 255, (f2 >>> 16) & 255, (f2 >>> 8) & 255, f2 & 255, f3 >> 8, f3 & 255]);
    const rows = Buffer.concat([row(1, forgedAt, 0)]);
    const xrefStmAt = sealed.length + body.length;
    const head = `${size + 1} 0 obj\n<< /Type /XRef /Size ${size + 2} /W [1 4 2] /Index [${c} 1] /Length ${rows.length} >>\nstream\n`;
    const tail = '\nendstream\nendobj\n';
    const tableAt = xrefStmAt + head.length + rows.length + tail.length;
    const table = `xref\n0 1\n0000000000 65535 f\r\n${c} 1\n${String(original).padStart(10, '0')} 00000 n\r\n${size} 1\n${String(forgedAt).padStart(10, '0')} 00000 n\r\n${size + 1} 1\n${String(xrefStmAt).padStart(10, '0')} 00000 n\r\n`;
    const doc = PdfDocument.load(sealed);
    const trailer = `trailer\n<< /Size ${size + 2} /Root ${doc.rootRef.num} 0 R /Prev ${doc.startXref} /XRefStm ${xrefStmAt} >>\nstartxref\n${tableAt}\n%%EOF\n`;
    const attacked = Buffer.concat([sealed, Buffer.from(body + head, 'latin1'), rows, Buffer.from(tail + table + trailer, 'latin1')]);
    await expectCaught(attacked, { attack: 'xref-manipulation', object: c, text: /hybrid/ });
  });

  it('free-list reuse: the content object freed and defined again with a new generation', async () => {
    const { contents } = firstPage(sealed);
    const attacked = appendRawUpdate(sealed, [{ num: contents[0]!, gen: 1, body: streamBody('', forgedContent) }]);
    await expectCaught(attacked, { object: contents[0]!, page: 1 });
  });

  it('duplicate object numbers: one xref section lists the content object twice', async () => {
    const { contents } = firstPage(sealed);
    const c = contents[0]!;
    const size = PdfDocument.load(sealed).size;
    const forgedUpdate = appendRawUpdate(sealed, [{ num: size, body: streamBody('', forgedContent) }]);
    const forgedAt = offsetOf(forgedUpdate, size);
    const attacked = appendRawUpdate(sealed, [{ num: size, body: streamBody('', forgedContent) }], { extraEntries: [{ num: c, offset: forgedAt }, { num: c, offset: offsetOf(sealed, c) }] });
    await expectCaught(attacked, { attack: 'xref-manipulation', object: c, text: /listed twice/ });
  });

  it('an object defined in the update body that its xref does not list', async () => {
    const { contents } = firstPage(sealed);
    const attacked = appendRawUpdate(sealed, [{ num: PdfDocument.load(sealed).size, body: '<< /Producer (x) >>' }], { unlisted: [{ num: contents[0]!, body: streamBody('', forgedContent) }] });
    await expectCaught(attacked, { attack: 'xref-manipulation', object: contents[0]! });
  });

  it('an xref stream that redefines an object of the signed revision', async () => {
    const { contents } = firstPage(sealed);
    const c = contents[0]!;
    const doc = PdfDocument.load(sealed);
    const at = sealed.length + 1;
    const row = Buffer.from([1, (at >>> 24) & 255, (at >>> 16) & 255, (at >>> 8) & 255, at & 255, 0, 0]);
    const head = `\n${c} 0 obj\n<< /Type /XRef /Size ${doc.size} /W [1 4 2] /Index [${c} 1] /Root ${doc.rootRef.num} 0 R /Prev ${doc.startXref} /Length ${row.length} >>\nstream\n`;
    const attacked = Buffer.concat([sealed, Buffer.from(head, 'latin1'), row, Buffer.from(`\nendstream\nendobj\nstartxref\n${at}\n%%EOF\n`, 'latin1')]);
    await expectCaught(attacked, { attack: 'type-spoofing', object: c, text: /redefined as a cross-reference stream/ });
  });

  it('/Type spoofing: the page content redefined with /Type /ObjStm in its dictionary', async () => {
    const { contents } = firstPage(sealed);
    const attacked = appendRawUpdate(sealed, [{ num: contents[0]!, body: streamBody('/Type /ObjStm /N 0 /First 0', forgedContent) }]);
    await expectCaught(attacked, { attack: 'type-spoofing', object: contents[0]!, text: /Type spoofing/ });
  });

  it('/Prev pointing past the signed revision: the seal is no longer part of the document', async () => {
    const { contents } = firstPage(sealed);
    const original = PdfDocument.load(plain);
    const attacked = appendRawUpdate(sealed, [{ num: contents[0]!, body: streamBody('', forgedContent) }], { prev: original.startXref });
    const report = await verify(attacked);
    expect(report.document.passed).toBe(0);
    expect(report.signatures.every((s) => s.indication !== 'TOTAL_PASSED')).toBe(true);
  });
});

describe('dangling references and actions', () => {
  it('a dangling reference of the signed revision filled in later', async () => {
    let dangling = 0;
    const prepared = preUpdate(plain, (doc, update) => {
      const page = doc.pages()[0]!;
      dangling = doc.size + 1000;
      const draw = update.add(new PdfStream(new PdfDict(), Buffer.from('q /Late Do Q')));
      const resources = (page.resources ?? new PdfDict()).clone();
      resources.set('XObject', (doc.resolveDict(resources.get('XObject')) ?? new PdfDict()).clone().set('Late', new PdfRef(dangling, 0)));
      const contents = page.dict.get('Contents');
      update.set(page.ref, page.dict.clone().set('Resources', resources).set('Contents', [...(Array.isArray(contents) ? contents : [contents!]), draw]));
    });
    const signed = await sealOk(svc, prepared, { sealId: 'scjg-official' });
    const attacked = appendRawUpdate(signed, [{ num: dangling, body: streamBody('/Type /XObject /Subtype /Form /BBox [0 0 595 842]', forgedContent) }]);
    await expectCaught(attacked, { attack: 'dangling-reference', object: dangling });
  });

  for (const [key, value] of [
    ['OpenAction', '<< /S /JavaScript /JS (app.alert\\(1\\)) >>'],
    ['AA', '<< /WC << /S /JavaScript /JS (1) >> >>'],
    ['Names', '<< /JavaScript << /Names [(x) << /S /JavaScript /JS (1) >>] >> >>'],
  ] as const) {
    it(`/${key} added to the catalog after signing`, async () => {
      const doc = PdfDocument.load(sealed);
      const catalog = doc.catalog();
      const text = [...catalog.entries].map(([k, v]) => `/${k} ${v instanceof PdfRef ? `${v.num} ${v.gen} R` : v instanceof PdfName ? `/${v.value}` : JSON.stringify(v)}`);
      // the catalog written by this service only holds references and names
      const body = `<< ${text.join(' ')} /${key} ${value} >>`;
      await expectCaught(appendRawUpdate(sealed, [{ num: doc.rootRef.num, body }]), { attack: 'actions-added', object: doc.rootRef.num, text: new RegExp(key) });
    });
  }
});

describe('what stays permitted', () => {
  it('a second and a third seal', async () => {
    const three = await sealOk(svc, await sealOk(svc, sealed, { sealId: 'xzsp-official' }), { sealId: 'scjg-approval' });
    const report = await verify(three);
    expect(report.signatures.map((s) => s.indication), JSON.stringify(report.signatures.map((s) => [s.subIndication, s.problems, s.failedConstraint]))).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED', 'TOTAL_PASSED']);
    const rules = new Set(report.signatures[0]!.changesAfterSigning.changes.map((c) => c.rule));
    expect([...rules].every((r) => ['signature-fields', 'page-annotations', 'acroform', 'catalog'].includes(r)), [...rules].join()).toBe(true);
    expect(qpdfCheck(writeTemp('three.pdf', three)).ok).toBe(true);
  });

  it('a form filled in under DocMDP P=2; the same with P=1 is not permitted', async () => {
    const form = await makeFormPdf();
    const p2 = fillTextField(await sealOk(svc, form, { sealId: 'scjg-official', certify: '2' }), 'applicant', 'Zhang San');
    const sig = (await verify(p2)).signatures[0]!;
    expect(sig.indication, JSON.stringify(sig.changesAfterSigning)).toBe('TOTAL_PASSED');
    expect(sig.changesAfterSigning.changes.some((c) => c.rule === 'form-fill' && c.permitted)).toBe(true);
    const p1 = fillTextField(await sealOk(svc, form, { sealId: 'scjg-official', certify: '1' }), 'applicant', 'Zhang San');
    await expectCaught(p1, { text: /DocMDP P=1/ });
  });

  it('a FieldMDP lock: the locked field may not be filled, another may', async () => {
    const form = await makeFormPdf();
    const { ca, chain } = devSealCa(svc.dataDir);
    const leaf = await issueSealCertificate({ orgName: '甲局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url }, ca);
    const locked = await signWithSigDictExtras(form, material(leaf, chain), (sig) => {
      const params = new PdfDict([['Type', PdfName.of('TransformParams')], ['Action', PdfName.of('Include')], ['Fields', [PdfString.fromText('applicant')]], ['V', PdfName.of('1.2')]]);
      sig.set('Reference', [new PdfDict([['Type', PdfName.of('SigRef')], ['TransformMethod', PdfName.of('FieldMDP')], ['TransformParams', params]])]);
    });
    const notes = (await verify(fillTextField(locked, 'notes', 'ok'))).signatures[0]!;
    expect(notes.changesAfterSigning.permitted, JSON.stringify(notes.changesAfterSigning)).toBe(true);
    await expectCaught(fillTextField(locked, 'applicant', 'Li Si'), { text: /locked by the signature/ });
  });

  it('an annotation under DocMDP P=3 is permitted and reported as an overlay', async () => {
    const p3 = addOverlayAnnotation(await sealOk(svc, plain, { sealId: 'scjg-official', certify: '3' }));
    const sig = (await verify(p3)).signatures[0]!;
    expect(sig.changesAfterSigning.permitted).toBe(true);
    expect(sig.indication).toBe('TOTAL_PASSED');
    expect(sig.changesAfterSigning.changes.some((c) => c.overlay && c.category === 'annotation')).toBe(true);
    expect(sig.problems.join(' ')).toMatch(/drawn over the signed content/);
  });

  it('a P=1 document refuses a seal (409) and takes B-LTA through /v1/extend', async () => {
    const p1 = await sealOk(svc, plain, { sealId: 'scjg-official', certify: '1' });
    const refused = await sealRequest(svc, p1, { sealId: 'xzsp-official' });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await refused.json()) as { type: string }).type).toMatch(/document-certified-no-changes/);
    const res = await fetch(`${svc.url}/v1/extend?level=B-LTA`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(p1) });
    expect(res.status, await res.clone().text()).toBe(200);
    const extended = Buffer.from(await res.arrayBuffer());
    const report = await verify(extended);
    const cert = report.signatures[0]!;
    expect(cert.certification).toEqual({ permission: 1 });
    expect(cert.indication, JSON.stringify(cert.changesAfterSigning)).toBe('TOTAL_PASSED');
    expect(report.signatures.some((s) => s.kind === 'document-timestamp' && s.indication === 'TOTAL_PASSED')).toBe(true);
    // B-LTA writes its timestamp's validation data after the timestamp: said as what it is
    expect(report.document.unsignedChangesAtEnd).toBe(true);
    expect(report.document.summary).toMatch(/validation data \(or metadata\) was added after its last signature/);
  });

  it('XMP metadata updated after signing is permitted and reported', async () => {
    const doc = PdfDocument.load(sealed);
    const update = new IncrementalUpdate(doc);
    const xmp = update.add(new PdfStream(new PdfDict([['Type', PdfName.of('Metadata')], ['Subtype', PdfName.of('XML')]]), Buffer.from('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>')));
    update.set(doc.rootRef, doc.catalog().clone().set('Metadata', xmp));
    const sig = (await verify(Buffer.concat([sealed, update.write()]))).signatures[0]!;
    expect(sig.changesAfterSigning.permitted).toBe(true);
    expect(sig.changesAfterSigning.changes.some((c) => c.rule === 'metadata' && c.category === 'metadata')).toBe(true);
  });
});
