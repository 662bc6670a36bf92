import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, issueSealCertificate, KEY_USAGE, validityYears } from '../../src/devpki/issue.js';
import type { ValidationReport, SignatureReport } from '../../src/validation/report.js';
import { makePdf, qpdfRewrite } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { pdfsig, tempDir, writeTemp } from '../helpers/tools.js';
import { addOverlayAnnotation, changePageContent, devSealCa, material, sealWith, signWithCustomRanges } from './fixtures.js';

let svc: RunningService;
let base: Buffer;

beforeAll(async () => {
  svc = await startService();
  base = await makePdf(2);
});
afterAll(async () => svc?.close());

async function verify(pdf: Buffer, query = ''): Promise<ValidationReport> {
  const res = await fetch(`${svc.url}/v1/verify${query}`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ValidationReport;
}

/** Our integrity verdict must agree with pdfsig's for every signature it lists. */
function agreesWithPdfsig(pdf: Buffer, report: ValidationReport): void {
  const theirs = pdfsig(writeTemp('agree.pdf', pdf));
  const byField = new Map(theirs.map((s) => [s.field, s.signatureValid]));
  for (const sig of report.signatures) {
    if (sig.kind !== 'signature' || !byField.has(sig.fieldName)) continue;
    const ours = sig.integrity.messageDigestMatches === true && sig.integrity.signatureValid === true;
    expect(ours, `${sig.fieldName}: ours ${ours}, pdfsig ${byField.get(sig.fieldName)}`).toBe(byField.get(sig.fieldName));
  }
}

function only(report: ValidationReport): SignatureReport {
  expect(report.signatures).toHaveLength(1);
  return report.signatures[0]!;
}

describe('our own seals', () => {
  it('pass in full, with the four statutory conditions met', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-approval' });
    const report = await verify(sealed);
    const sig = only(report);
    expect(sig.indication, JSON.stringify(sig.problems)).toBe('TOTAL_PASSED');
    expect(sig.subIndication).toBeNull();
    expect(sig.seal).toEqual({ id: 'scjg-approval', name: '某某市市场监督管理局审批专用章' });
    expect(sig.coversWholeFile).toBe(true);
    expect(sig.revocation).toMatchObject({ checked: true, status: 'good', source: 'ocsp' });
    for (const condition of Object.values(sig.conditions)) expect(condition.status, condition.reason).toBe('met');
    expect(report.document).toMatchObject({ signatures: 1, passed: 1, unsignedChangesAtEnd: false });
    agreesWithPdfsig(sealed, report);
  });

  it('stay valid when a later seal is added (a permitted change)', async () => {
    const twice = await sealOk(svc, await sealOk(svc, base, { sealId: 'scjg-official' }), { sealId: 'xzsp-official' });
    const report = await verify(twice);
    expect(report.signatures.map((s) => s.indication)).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED']);
    const first = report.signatures[0]!;
    expect(first.coverage).toBe('entire-revision');
    expect(first.changesAfterSigning.permitted).toBe(true);
    expect(first.changesAfterSigning.changes.every((c) => c.category === 'signing' && c.permitted)).toBe(true);
    agreesWithPdfsig(twice, report);
  });
});

describe('failures made on purpose', () => {
  it('a byte flipped inside a signed range: HASH_FAILURE', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-official' });
    const at = sealed.indexOf('stream\n') + 20; // inside the first page's content stream
    const tampered = Buffer.from(sealed);
    tampered[at] = tampered[at]! ^ 0x01;
    const report = await verify(tampered);
    const sig = only(report);
    expect([sig.indication, sig.subIndication]).toEqual(['TOTAL_FAILED', 'HASH_FAILURE']);
    expect(sig.conditions.documentAlterationDetectable.status).toBe('not met');
    agreesWithPdfsig(tampered, report);
  });

  it('a damaged signature value: SIG_CRYPTO_FAILURE', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-official' });
    const text = sealed.toString('latin1');
    const contents = text.indexOf('/Contents <') + '/Contents <'.length;
    const end = text.indexOf('>', contents);
    const hex = text.slice(contents, end).replace(/(00)+$/, '');
    const flipAt = contents + hex.length - 4; // inside the RSA signature value, the CMS's last element
    const damaged = Buffer.from(sealed);
    damaged.write(sealed[flipAt] === 0x30 ? '1' : '0', flipAt, 'latin1');
    const report = await verify(damaged);
    const sig = only(report);
    expect([sig.indication, sig.subIndication]).toEqual(['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE']);
    expect(sig.conditions.signatureAlterationDetectable.status).toBe('not met');
    agreesWithPdfsig(damaged, report);
  });

  it('a signer under an untrusted root: NO_CERTIFICATE_CHAIN_FOUND', async () => {
    const root = await issueCertificate({ subject: [['CN', 'Unknown Root']], keyKind: 'ec', ...validityYears(2), ca: {}, keyUsage: KEY_USAGE.keyCertSign });
    const leaf = await issueSealCertificate({ orgName: '冒名局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url }, root);
    const sealed = await sealWith(base, material(leaf, [root.certDer]));
    const sig = only(await verify(sealed));
    expect([sig.indication, sig.subIndication]).toEqual(['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND']);
    expect(sig.conditions.creationDataExclusiveToSigner.status).toBe('unknown');
    expect(sig.integrity.signatureValid).toBe(true);
  });

  it('an expired and a not-yet-valid signer certificate', async () => {
    const { ca, chain } = devSealCa(svc.dataDir);
    const day = 86_400_000;
    const expired = await issueSealCertificate({ orgName: '过期局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url, notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) }, ca);
    const early = await issueSealCertificate({ orgName: '未生效局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url, notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 30 * day) }, ca);
    // Signed now, with a certificate that expired yesterday: the signer claims a time after expiry.
    const a = only(await verify(await sealWith(base, material(expired, chain))));
    expect([a.indication, a.subIndication]).toEqual(['TOTAL_FAILED', 'EXPIRED']);
    // Signed while valid, validated after expiry without a timestamp: no proof of existence.
    const valid = await issueSealCertificate({ orgName: '有效局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url }, ca);
    const later = new Date(Date.now() + 4 * 365 * day).toISOString();
    const c = only(await verify(await sealWith(base, material(valid, chain)), `?validationTime=${later}`));
    expect([c.indication, c.subIndication]).toEqual(['INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE']);
    const b = only(await verify(await sealWith(base, material(early, chain))));
    expect([b.indication, b.subIndication]).toEqual(['TOTAL_FAILED', 'NOT_YET_VALID']);
  });

  it('a signing-certificate-v2 reference to another certificate', async () => {
    const { ca, chain } = devSealCa(svc.dataDir);
    const real = await issueSealCertificate({ orgName: '甲局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url }, ca);
    const other = await issueSealCertificate({ orgName: '乙局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url }, ca);
    const m = material(real, chain);
    // Swap in the signing-certificate-v2 attribute computed for another certificate.
    const otherBuilder = material(other, chain).cms as unknown as { signingCertificateV2: Buffer };
    (m.cms as unknown as { signingCertificateV2: Buffer }).signingCertificateV2 = otherBuilder.signingCertificateV2;
    const sig = only(await verify(await sealWith(base, m)));
    expect(sig.integrity.signingCertificateReference).toBe('mismatch');
    expect([sig.indication, sig.subIndication]).toEqual(['INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND']);
  });

  it('a ByteRange that leaves bytes of the revision out', async () => {
    const { ca, chain } = devSealCa(svc.dataDir);
    const leaf = await issueSealCertificate({ orgName: '甲局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'rsa', baseUrl: svc.url }, ca);
    const m = material(leaf, chain);
    const pdf = await signWithCustomRanges(base, m.cms.maxLength(), 'ETSI.CAdES.detached', async (bytes) => (await m.cms.sign((await import('node:crypto')).createHash('sha256').update(bytes).digest())).encode(), (r) => [r[0], r[1], r[2], r[3] - 40]);
    const report = await verify(pdf);
    const sig = only(report);
    expect(sig.coverage).toBe('partial');
    expect(sig.integrity.messageDigestMatches).toBe(true);
    expect([sig.indication, sig.subIndication]).toEqual(['TOTAL_FAILED', 'FORMAT_FAILURE']);
    expect(sig.conditions.documentAlterationDetectable.status).toBe('not met');
    expect(report.document.unsignedChangesAtEnd).toBe(true);
  });

  it('an update after signing that changes page content is not permitted', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-official' });
    const forged = changePageContent(sealed);
    const report = await verify(forged);
    const sig = only(report);
    expect(sig.integrity.messageDigestMatches).toBe(true);
    expect(sig.changesAfterSigning.permitted).toBe(false);
    expect(sig.changesAfterSigning.changes.some((c) => !c.permitted && c.category === 'other' && c.pages?.includes(1))).toBe(true);
    expect([sig.indication, sig.subIndication]).toEqual(['INDETERMINATE', 'SIG_CONSTRAINTS_FAILURE']);
    expect(report.document.unsignedChangesAtEnd).toBe(true);
    agreesWithPdfsig(forged, report);
  });

  it('an annotation drawn over the page after signing is reported as an overlay', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'scjg-official' });
    const overlay = addOverlayAnnotation(sealed);
    const sig = only(await verify(overlay));
    const added = sig.changesAfterSigning.changes.find((c) => c.category === 'annotation' && c.kind === 'added');
    expect(added?.description).toMatch(/overlay/);
    expect(added?.pages).toEqual([1]);
    expect(sig.problems.join(' ')).toMatch(/drawn over the signed content/);
    // Under a certification with P=2, annotations are not permitted at all.
    const certified = addOverlayAnnotation(await sealOk(svc, base, { sealId: 'scjg-official', certify: '2' }));
    expect(only(await verify(certified)).subIndication).toBe('SIG_CONSTRAINTS_FAILURE');
  });

  it('a seal added after a DocMDP P=1 certification violates it; P=2 allows it', async () => {
    // The service refuses to seal a P=1 document (409); another product might not.
    const { ca, chain } = devSealCa(svc.dataDir);
    const other = await issueSealCertificate({ orgName: '乙局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: svc.url }, ca);
    const p1 = await sealWith(await sealOk(svc, base, { sealId: 'scjg-official', certify: '1' }), material(other, chain));
    const r1 = await verify(p1);
    expect(r1.signatures[0]!.certification).toEqual({ permission: 1 });
    expect([r1.signatures[0]!.indication, r1.signatures[0]!.subIndication]).toEqual(['INDETERMINATE', 'SIG_CONSTRAINTS_FAILURE']);
    const p2 = await sealOk(svc, await sealOk(svc, base, { sealId: 'scjg-official', certify: '2' }), { sealId: 'xzsp-official' });
    expect((await verify(p2)).signatures.map((s) => s.indication)).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED']);
  });

  it('an encrypted file: 422 pdf-encrypted without its password, a report with X-PDF-Password', async () => {
    // qpdf rewrites the whole file, so the seal no longer matches: what matters here is that the
    // password opens the file and the signature is reported, not refused
    const encrypted = qpdfRewrite(await sealOk(svc, base, { sealId: 'scjg-official' }), ['--encrypt', 'open-sesame', 'owner', '256', '--']);
    const refused = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(encrypted) });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { type: string }).type).toMatch(/pdf-encrypted/);
    const res = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf', 'x-pdf-password': 'open-sesame' }, body: new Uint8Array(encrypted) });
    expect(res.status).toBe(200);
    const report = (await res.json()) as ValidationReport;
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]!.indication).not.toBe('TOTAL_PASSED');
  });

  it('garbage in /Contents: FORMAT_FAILURE; a file that is not a PDF: 422', async () => {
    const pdf = await signWithCustomRanges(base, 64, 'ETSI.CAdES.detached', () => Buffer.from('this is not a CMS structure'));
    const sig = only(await verify(pdf));
    expect([sig.indication, sig.subIndication]).toEqual(['TOTAL_FAILED', 'FORMAT_FAILURE']);
    const res = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: 'nope' });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});

describe('signatures made by other implementations', () => {
  async function signpdfSigned(subFilter: string): Promise<Buffer> {
    const pki = path.join(svc.dataDir, 'pki');
    const p12 = readFileSync(path.join(pki, 'seals', 'scjg-official.p12'));
    const pdfDoc = await PDFDocument.load(base);
    pdflibAddPlaceholder({ pdfDoc, reason: 'test', contactInfo: '', name: 'other', location: '', subFilter } as Parameters<typeof pdflibAddPlaceholder>[0]);
    const withPlaceholder = Buffer.from(await pdfDoc.save({ useObjectStreams: false }));
    return new SignPdf().sign(withPlaceholder, new P12Signer(p12, { passphrase: readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim() }));
  }

  for (const subFilter of ['adbe.pkcs7.detached', 'ETSI.CAdES.detached']) {
    it(`@signpdf/signpdf with ${subFilter}`, async () => {
      const signed = await signpdfSigned(subFilter);
      const report = await verify(signed);
      const sig = only(report);
      expect(sig.subFilter).toBe(subFilter);
      expect(sig.integrity).toMatchObject({ messageDigestMatches: true, signatureValid: true });
      expect(sig.indication, JSON.stringify(sig.problems)).toBe('TOTAL_PASSED');
      agreesWithPdfsig(signed, report);
    });
  }

  it('an openssl cms detached signature placed into a PDF by hand', async () => {
    const dir = tempDir('ossl');
    const pki = path.join(svc.dataDir, 'pki');
    const pass = readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim();
    execFileSync('openssl', ['pkcs12', '-in', path.join(pki, 'seals', 'xzsp-official.p12'), '-passin', `pass:${pass}`, '-nodes', '-out', path.join(dir, 'all.pem')]);
    const pdf = await signWithCustomRanges(base, 8192, 'adbe.pkcs7.detached', (bytes) => {
      writeFileSync(path.join(dir, 'data.bin'), bytes);
      execFileSync('openssl', ['cms', '-sign', '-binary', '-outform', 'DER', '-in', path.join(dir, 'data.bin'), '-signer', path.join(dir, 'all.pem'), '-md', 'sha256', '-out', path.join(dir, 'sig.der')]);
      return readFileSync(path.join(dir, 'sig.der'));
    });
    const report = await verify(pdf);
    const sig = only(report);
    expect(sig.subFilter).toBe('adbe.pkcs7.detached');
    expect(sig.integrity).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    expect(sig.claimedSigningTime).not.toBeNull();
    expect(sig.indication, JSON.stringify(sig.problems)).toBe('TOTAL_PASSED');
    agreesWithPdfsig(pdf, report);
    const tampered = Buffer.from(pdf);
    tampered[100] = tampered[100]! ^ 1;
    const bad = await verify(tampered);
    expect(bad.signatures[0]!.subIndication).toBe('HASH_FAILURE');
    agreesWithPdfsig(tampered, bad);
  });
});

describe('the verify CLI', () => {
  it('prints a readable summary and the JSON report', async () => {
    const sealed = await sealOk(svc, base, { sealId: 'xzsp-approval' });
    const file = writeTemp('cli.pdf', sealed);
    const root = path.join(svc.dataDir, 'pki', 'root.pem');
    // The CLI runs without the service, so the CRL named in the certificate cannot be fetched:
    // the signature is reported INDETERMINATE/TRY_LATER and the exit code is 1.
    const run = (args: string[]) => spawnSync('node_modules/.bin/tsx', ['src/cli/verify.ts', ...args], { encoding: 'utf8' });
    const text = run(['--trust', root, file]);
    expect(text.status, text.stderr).toBe(1);
    expect(text.stdout).toContain('某某市行政审批服务局审批专用章');
    expect(text.stdout).toMatch(/art\. 13/);
    expect(text.stdout).toContain('TRY_LATER');
    const json = JSON.parse(run(['--json', '--trust', root, file]).stdout) as ValidationReport;
    expect(json.signatures[0]!.integrity.signatureValid).toBe(true);
    expect(run([writeTemp('bad.pdf', Buffer.from('not a pdf'))]).status).toBe(2);
  });
});
