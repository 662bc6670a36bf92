import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LicenseRecord } from '../../src/licenses/issuance.js';
import { buildLicenseIdentifier } from '../../src/licenses/identifier.js';
import { PdfDocument } from '../../src/pdf/document.js';
import { PdfRef } from '../../src/pdf/objects.js';
import { appendRawUpdate, firstPage, pageWith, streamBody } from '../attacks/craft.js';
import { sampleBusinessLicence } from '../helpers/licences.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
let auth: Record<string, string>;
beforeAll(async () => {
  svc = await startService();
  auth = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
});
afterAll(async () => svc?.close());

interface VerifyAnswer {
  verdict: string;
  detail: string;
  license: Record<string, unknown> | null;
  currentVersion: (Record<string, unknown> & { id: string; verificationUrl: string }) | null;
  signatures: Array<{ fieldName: string; kind: string; role: string; indication: string; subIndication: string | null; seal: { id: string } | null; trusted: boolean }>;
}

async function issue(service: RunningService = svc, request: unknown = sampleBusinessLicence()): Promise<LicenseRecord> {
  const res = await fetch(`${service.url}/v1/licenses`, { method: 'POST', headers: { ...auth, authorization: `Bearer ${service.token}` }, body: JSON.stringify(request) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as LicenseRecord;
}

async function verifyText(pdf: Buffer): Promise<string> {
  const res = await fetch(`${svc.url}/v1/licenses/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status).toBe(200);
  return res.text();
}

async function verify(pdf: Buffer): Promise<VerifyAnswer> {
  return JSON.parse(await verifyText(pdf)) as VerifyAnswer;
}

async function extend(pdf: Buffer, level: 'B-LT' | 'B-LTA'): Promise<Buffer> {
  const res = await fetch(`${svc.url}/v1/extend?level=${level}`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status, await res.clone().text()).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

const pdfOf = async (record: LicenseRecord): Promise<Buffer> => (await svc.service.licenses.pdf(record.id))!;
const pagePath = (record: { verificationUrl: string }): string => `${new URL(record.verificationUrl).pathname}${new URL(record.verificationUrl).search}`;

describe('matching an uploaded licence by the issuing seal\'s signed revision', () => {
  it('a licence extended to B-LTA by /v1/extend is authentic, and its document timestamp reports its own status', async () => {
    const record = await issue();
    const extended = await extend(await pdfOf(record), 'B-LTA');
    const answer = await verify(extended);
    expect(answer.verdict, answer.detail).toBe('authentic');
    expect(answer.license).toMatchObject({ id: record.id, status: 'valid' });
    expect(answer.signatures.map((s) => [s.kind, s.role])).toEqual([
      ['signature', 'issuing'],
      ['document-timestamp', 'later'],
    ]);
    expect(answer.signatures[1]!.indication).toBe('TOTAL_PASSED');
    // Renewed once more, it still is.
    expect((await verify(await extend(extended, 'B-LTA'))).verdict).toBe('authentic');
  });

  it('a licence countersigned by another department\'s seal is authentic, with the countersignature reported as later', async () => {
    const record = await issue();
    const countersigned = await sealOk(svc, await pdfOf(record), { sealId: 'xzsp-approval', page: '1', x: '120', y: '120' });
    const answer = await verify(countersigned);
    expect(answer.verdict, answer.detail).toBe('authentic');
    expect(answer.signatures.map((s) => [s.seal?.id, s.role, s.indication])).toEqual([
      [record.sealId, 'issuing', 'TOTAL_PASSED'],
      ['xzsp-approval', 'later', 'TOTAL_PASSED'],
    ]);
  });

  it('a later revision that changes the page is not authentic, after extension too', async () => {
    const record = await issue();
    const extended = await extend(await pdfOf(record), 'B-LTA');
    const { contents } = firstPage(extended);
    const forged = appendRawUpdate(extended, [{ num: contents[0]!, body: streamBody('', 'BT /F1 30 Tf 100 500 Td (FORGED) Tj ET') }]);
    const answer = await verify(forged);
    expect(answer.verdict).toBe('document-altered');
    expect(answer.detail).toContain('not permitted');
    // The original stays authentic: the verdict is about what was uploaded.
    expect((await verify(extended)).verdict).toBe('authentic');
  });

  it('an annotation drawn over the licence after issue is not authentic, though the validator permits annotations', async () => {
    const record = await issue();
    const pdf = await pdfOf(record);
    const { ref, dict } = firstPage(pdf);
    const annot = PdfDocument.load(pdf).size;
    const annots = dict.get('Annots');
    const kept = Array.isArray(annots) ? annots.filter((a): a is PdfRef => a instanceof PdfRef).map((a) => `${a.num} ${a.gen} R `).join('') : '';
    const covered = appendRawUpdate(pdf, [
      { num: annot, body: '<< /Type /Annot /Subtype /FreeText /Rect [100 400 400 440] /Contents (ANOTHER NAME) /DA (/Helv 20 Tf 0 g) /F 4 >>' },
      { num: ref.num, body: pageWith(dict, { Annots: `[${kept}${annot} 0 R]` }) },
    ]);
    const answer = await verify(covered);
    expect(answer.verdict).toBe('document-altered');
    expect(answer.detail).toMatch(/drawn over the licence after issue/);
    expect(answer.license).toMatchObject({ id: record.id });
  });

  it('a file that changed the issued revision itself does not match the registry', async () => {
    const record = await issue();
    const pdf = Buffer.from(await pdfOf(record));
    const at = pdf.indexOf('stream\n') + 30;
    pdf[at] = pdf[at]! ^ 0x01;
    const answer = await verify(pdf);
    expect(answer.verdict).toBe('document-altered');
    expect(answer.license).toBeNull();
  });

  it('a licence sealed under a chain this service does not trust is "untrusted", not "intact"; such a seal stamped on our licence alters it', async () => {
    const elsewhere = await startService({}, undefined, { freshPki: true }); // another instance: its own CAs
    try {
      const foreign = await issue(elsewhere);
      const answer = await verify((await elsewhere.service.licenses.pdf(foreign.id))!);
      expect(answer.verdict).toBe('untrusted');
      expect(answer.detail).toMatch(/does not lead to an authority this service trusts/);
      expect(answer.detail).not.toMatch(/intact/);
      expect(answer.license).toBeNull();
      expect(answer.signatures[0]).toMatchObject({ trusted: false, indication: 'INDETERMINATE', role: 'unmatched' });
      // A seal under that chain stamped onto one of our licences covers part of the page: not authentic.
      const ours = await issue();
      const stamped = await sealOk(elsewhere, await pdfOf(ours), { sealId: 'xzsp-approval', page: '1', x: '120', y: '120' });
      const stampedAnswer = await verify(stamped);
      expect(stampedAnswer.verdict).toBe('document-altered');
      expect(stampedAnswer.detail).toMatch(/a signature that does not verify was drawn over the licence/);
      expect(stampedAnswer.signatures.map((s) => [s.role, s.trusted])).toEqual([
        ['issuing', true],
        ['later', false],
      ]);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('what the public endpoints say of a licence\'s state', () => {
  it('a licence replaced twice points to the final version, in JSON and on its page', async () => {
    const first = await issue();
    const replace = async (id: string, scope: string): Promise<LicenseRecord> => {
      const res = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(id)}/replace`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: '经营范围变更', fields: { ...sampleBusinessLicence().fields, businessScope: scope } }) });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as LicenseRecord;
    };
    const second = await replace(first.id, '软件开发');
    const third = await replace(second.id, '软件开发；技术服务');
    expect(third.version).toBe('003');
    for (const old of [first, second]) {
      const answer = await verify(await pdfOf(old));
      expect(answer.verdict).toBe('superseded');
      expect(answer.currentVersion?.id).toBe(third.id);
      expect(answer.currentVersion?.verificationUrl).toBe(third.verificationUrl);
      expect(answer.detail).toContain(third.id);
      expect(answer.detail).not.toContain(second.id === old.id ? first.id : second.id);
      const html = await (await fetch(`${svc.url}${pagePath(old)}`)).text();
      const href = /<a id="current" href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
      expect(href).toBe(`${encodeURIComponent(third.id)}?c=${new URL(third.verificationUrl).searchParams.get('c')}`);
      // The link, resolved against the page, opens the final version's page.
      const target = await fetch(new URL(href!, `${svc.url}${pagePath(old)}`));
      expect(target.status).toBe(200);
      expect(await target.text()).toContain('真实有效');
    }
  });

  it('revocation reasons appear neither in the public JSON nor on the page', async () => {
    const record = await issue();
    const reason = '虚假材料骗取登记XQ7';
    const revoked = await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(record.id)}/revoke`, { method: 'POST', headers: auth, body: JSON.stringify({ reason }) });
    expect(revoked.status).toBe(200);
    const text = await verifyText(await pdfOf(record));
    const answer = JSON.parse(text) as VerifyAnswer;
    expect(answer.verdict).toBe('revoked');
    expect(answer.license).toMatchObject({ status: 'revoked' });
    expect(typeof answer.license!.revokedAt).toBe('string');
    expect(text).not.toContain('XQ7');
    expect(text).not.toContain('虚假材料');
    expect(Object.keys(answer.license!)).not.toContain('revokeReason');
    const html = await (await fetch(`${svc.url}${pagePath(record)}`)).text();
    expect(html).toMatch(/已撤销（\d{4}年\d{1,2}月\d{1,2}日）/);
    expect(html).not.toContain('XQ7');
  });
});

describe('the public page', () => {
  const expectSecurityHeaders = (res: Response): void => {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  };

  it('shows a legal person\'s public facts in full and natural persons\' data masked, with security headers', async () => {
    const record = await issue();
    const res = await fetch(`${svc.url}${pagePath(record)}`);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    const facts = sampleBusinessLicence().fields;
    for (const shown of ['张三科技有限公司', '91350100M000100Y43', facts.businessScope, facts.domicile, '真实有效']) expect(html).toContain(shown);
    expect(html).toContain('<dt>法定代表人</dt><dd class="masked">张*</dd>');
    expect(html).not.toMatch(/>张三</);
    // The stylesheet is allowed by its hash: the policy names the hash of the page's <style>.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const { createHash } = await import('node:crypto');
    expect(res.headers.get('content-security-policy')).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(html).not.toMatch(/<script/i);

    const citizen = await issue(svc, { type: 'acceptance-notice', holder: { name: '赵小六', code: '440524188001010014', codeType: '111' }, fields: { matter: '个体工商户设立登记', applicationNumber: 'SQ2026000456', receivedOn: '2026-11-25', promisedDays: 3 } });
    const citizenHtml = await (await fetch(`${svc.url}${pagePath(citizen)}`)).text();
    expect(citizenHtml).toContain('赵*六');
    expect(citizenHtml).toContain('4405**********0014');
    expect(citizenHtml).not.toContain('赵小六');
    expect(citizenHtml).not.toContain('440524188001010014');
  });

  it('serves the licence face as a bounded PNG, and the page shows it', async () => {
    const record = await issue();
    const html = await (await fetch(`${svc.url}${pagePath(record)}`)).text();
    const src = /<img id="face" src="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(src).toBeDefined();
    const res = await fetch(new URL(src!, `${svc.url}${pagePath(record)}`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expectSecurityHeaders(res);
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(Math.max(width, height)).toBe(1000);
    expect(Math.min(width, height)).toBeGreaterThan(500);
    // Served again from the cache, the same image.
    const again = Buffer.from(await (await fetch(new URL(src!, `${svc.url}${pagePath(record)}`))).arrayBuffer());
    expect(again.equals(png)).toBe(true);
    // Without the right check code, no image.
    expect((await fetch(`${svc.url}/v/${encodeURIComponent(record.id)}/face.png?c=AAAAAAAAAA`)).status).toBe(404);
  });

  it('answers malformed identifiers with a Chinese 400 page and unknown ones with a 404 page, both with the headers', async () => {
    const unknown = buildLicenseIdentifier({ typeCode: '11370500MB0100001H001', issuerCode: '91350100M000100Y43', serial: 'YYZZ2026999999', version: '001' });
    const wrongCheck = `${unknown.slice(0, -1)}${unknown.endsWith('0') ? '1' : '0'}`;
    const cases: Array<[string, number]> = [
      ['/v/not-an-identifier?c=AAAAAAAAAA', 400],
      [`/v/${wrongCheck}?c=AAAAAAAAAA`, 400],
      [`/v/${unknown}`, 400], // no check code
      [`/v/${unknown}?c=${encodeURIComponent('<script>')}`, 400],
      ['/v/%E0%A4%A?c=AAAAAAAAAA', 400], // a broken percent-escape: fails before any route
      [`/v/${encodeURIComponent(unknown)}?c=${svc.service.licenses.checkCode(unknown)}`, 404],
    ];
    for (const [path, status] of cases) {
      const res = await fetch(`${svc.url}${path}`);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expectSecurityHeaders(res);
      const html = await res.text();
      expect(html).toContain('无法核验');
      expect(html).toContain(status === 400 ? '格式不正确' : '未找到该证照');
      expect(html).not.toContain('<script>');
    }
  });

  it('a holder\'s presentation code opens the page for a few minutes, without giving away the permanent check code', async () => {
    const record = await issue();
    const checkCode = new URL(record.verificationUrl).searchParams.get('c')!;
    const presentPage = await fetch(`${svc.url}/v/${encodeURIComponent(record.id)}/present?c=${checkCode}`);
    expect(presentPage.status).toBe(200);
    expectSecurityHeaders(presentPage);
    expect(presentPage.headers.get('cache-control')).toBe('no-store');
    const presentHtml = await presentPage.text();
    expect(presentHtml).toMatch(/<div id="qr" class="qr"><svg [^>]*>/);
    expect(presentHtml).toMatch(/有效至<span id="expires">\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}<\/span>/);

    const code = svc.service.licenses.presentationCode(record.id);
    expect(code.expiresAt.getTime() - Date.now()).toBeGreaterThan(60_000);
    const opened = await fetch(`${svc.url}${new URL(code.url).pathname}`);
    expect(opened.status).toBe(200);
    expectSecurityHeaders(opened);
    const html = await opened.text();
    expect(html).toContain('真实有效');
    expect(html).toContain('持证人出示的动态码');
    expect(html).not.toContain(checkCode);
    const face = /<img id="face" src="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const image = await fetch(new URL(face, `${svc.url}${new URL(code.url).pathname}`));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');

    const lapsed = svc.service.licenses.presentationCode(record.id, new Date(Date.now() - 10 * 60_000));
    const expired = await fetch(`${svc.url}${new URL(lapsed.url).pathname}`);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('此出示码已过期');
    expect((await fetch(`${svc.url}${new URL(lapsed.url).pathname}/face.png`)).status).toBe(410);
    // A later expiry written into an old code breaks its MAC.
    const [payload, mac] = lapsed.token.split('.') as [string, string];
    const stretched = Buffer.from(`${record.id}\n${Math.floor(Date.now() / 1000) + 3600}`).toString('base64url');
    expect(payload).not.toBe(stretched);
    const forged = await fetch(`${svc.url}/v/presented/${stretched}.${mac}`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('格式不正确');
  });
});
