import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PDFDocument } from 'pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { makePdf } from '../helpers/pdfs.js';
import { qpdfCheck } from '../helpers/tools.js';
import { signWithCustomRanges } from '../validation/fixtures.js';
import { makeTestPki, opensslStreamingCms, runJobs, type Job, type JobResult, type TestPki } from './harness.js';

const run = promisify(execFile);

/** One file of the corpus: who made it, how, and what a correct verifier must find in it. */
export interface CorpusCase {
  name: string;
  file: string;
  /** What made the signature(s), and anything done to the file afterwards. */
  made: string;
  /** Coverage of each signature, in file order, as the ByteRanges say. */
  coverage: ReadonlyArray<'entire-file' | 'entire-revision' | 'invalid'>;
  /** The indication expected for every signature (trusted root, no revocation checker: TRY_LATER at best). */
  outcome: readonly ['INDETERMINATE', 'TRY_LATER'] | readonly ['TOTAL_FAILED', 'HASH_FAILURE'] | readonly ['TOTAL_FAILED', 'FORMAT_FAILURE'];
  subFilter: string;
  /** Why pdfsig's verdict is not the reference for this file (then PDFBox + BC's is). */
  pdfsigMisjudges?: string;
  /** The file is encrypted with the standard security handler. */
  encrypted?: boolean;
  /** The user password it opens with, when not the empty one. */
  password?: string;
  certify?: 1 | 2 | 3;
  /** Expected signature algorithm (as our report names it), when it matters to the case. */
  algorithm?: RegExp;
}

export interface Corpus {
  pki: TestPki;
  cases: CorpusCase[];
  /** PDFBox + BouncyCastle's verdict per file and field: digest over the ByteRange, and SignerInformation.verify. */
  pdfbox: Map<string, Map<string, { digest: boolean; valid: boolean; detail: string }>>;
}

/** Replaces every LF outside stream data by CR, keeping the EOL right after `stream` (CR alone is not allowed there). */
export function toCrLineEndings(pdf: Buffer): Buffer {
  const out = Buffer.from(pdf);
  const text = pdf.toString('latin1');
  const streams: Array<[number, number]> = [];
  const re = /stream(\r\n|\n)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (text.slice(m.index - 3, m.index) === 'end') continue;
    const dataStart = m.index + m[0].length;
    const end = text.indexOf('endstream', dataStart);
    if (end < 0) break;
    streams.push([dataStart, end]);
    re.lastIndex = end + 'endstream'.length;
  }
  let s = 0;
  for (let i = 0; i < out.length; i++) {
    while (s < streams.length && i >= streams[s]![1]) s++;
    const inData = s < streams.length && i >= streams[s]![0];
    if (!inData && out[i] === 0x0a) out[i] = 0x0d;
  }
  // Put back the LF after each `stream` keyword (it precedes the data start).
  for (const [dataStart] of streams) out[dataStart - 1] = 0x0a;
  return out;
}

/** Sets the value of the last `startxref` to `value`. */
export function setLastStartxref(pdf: Buffer, value: (current: number) => number): Buffer {
  const text = pdf.toString('latin1');
  const at = text.lastIndexOf('startxref');
  const m = /^startxref(\s+)(\d+)/.exec(text.slice(at))!;
  const numberAt = at + 'startxref'.length + m[1]!.length;
  return Buffer.concat([pdf.subarray(0, numberAt), Buffer.from(String(value(Number(m[2]))), 'latin1'), pdf.subarray(numberAt + m[2]!.length)]);
}

/** A wrong offset of the same number of digits, inside the file but not at an xref section. */
const wrongOffset = (current: number): number => (String(current - 17).length === String(current).length ? current - 17 : current + 17);

/** 100 bytes of junk to put before `%PDF-`: every offset in the file is then 100 too small. */
const JUNK = Buffer.from(`${'junk before the header '.repeat(5).slice(0, 99)}\n`, 'latin1');

/** The user password of the corpus file that needs one. */
export const USER_PASSWORD = 'citizen-2026';

export async function buildCorpus(dir: string): Promise<Corpus> {
  const pki = await makeTestPki(dir);
  const file = (name: string): string => path.join(dir, `${name}.pdf`);
  const base = await makePdf(2);
  writeFileSync(file('base'), base);

  // Damaged and linearized inputs for PDFBox to sign.
  writeFileSync(file('in-junk-prefix'), Buffer.concat([JUNK, base]));
  writeFileSync(file('in-wrong-startxref'), setLastStartxref(base, wrongOffset));
  writeFileSync(file('in-startxref-past-end'), setLastStartxref(base, () => base.length + 10_000_000));
  await run('qpdf', ['--linearize', file('base'), file('in-linearized')]);
  const crOnly = toCrLineEndings(readFileSync(file('in-linearized')));
  writeFileSync(file('in-linearized-cr'), crOnly);
  const check = qpdfCheck(file('in-linearized-cr'));
  if (!check.ok) throw new Error(`the CR-only linearized file is not valid for qpdf: ${check.output}`);

  // @signpdf/signpdf (node-forge CMS), RSA.
  const signpdf = async (subFilter: string): Promise<Buffer> => {
    const doc = await PDFDocument.load(base);
    pdflibAddPlaceholder({ pdfDoc: doc, reason: 'interop', contactInfo: '', name: 'signpdf', location: '', subFilter } as Parameters<typeof pdflibAddPlaceholder>[0]);
    const withPlaceholder = Buffer.from(await doc.save({ useObjectStreams: false }));
    return new SignPdf().sign(withPlaceholder, new P12Signer(pki.rsaLegacyP12, { passphrase: pki.pass }));
  };
  writeFileSync(file('signpdf-adbe'), await signpdf('adbe.pkcs7.detached'));
  writeFileSync(file('signpdf-cades'), await signpdf('ETSI.CAdES.detached'));

  // openssl cms -stream: BER with indefinite lengths, placed by hand.
  writeFileSync(file('openssl-cms-stream-ber'), await signWithCustomRanges(base, 8192, 'adbe.pkcs7.detached', (bytes) => opensslStreamingCms(pki, bytes, dir)));

  const rsa = { p12: pki.rsaP12, pass: pki.pass };
  const sign = (name: string, input: string, extra: Job = {}): Job => ({ op: 'sign', in: input, out: file(name), ...rsa, ...extra });
  const jobs: Job[] = [
    sign('pdfbox-approval-invisible', file('base')),
    sign('pdfbox-approval-visible', file('base'), { visible: '1' }),
    sign('pdfbox-certify-p1', file('base'), { certify: '1' }),
    sign('pdfbox-certify-p2', file('base'), { certify: '2', visible: '1' }),
    sign('pdfbox-certify-p3', file('base'), { certify: '3' }),
    sign('pdfbox-second-signature', file('pdfbox-approval-invisible'), { visible: '1' }),
    sign('pdfbox-over-signpdf', file('signpdf-adbe')),
    sign('pdfbox-encrypted-aes128', file('base'), { encrypt: 'aes128' }),
    sign('pdfbox-encrypted-rc4-128', file('base'), { encrypt: 'rc4-128' }),
    sign('pdfbox-encrypted-user-password', file('base'), { encrypt: 'aes128', userPassword: USER_PASSWORD }),
    sign('pdfbox-ecdsa-p256', file('base'), { p12: pki.ecP12, alg: 'ecdsa' }),
    sign('pdfbox-rsa-pss', file('base'), { alg: 'pss' }),
    sign('pdfbox-bc-default-encoding', file('base'), { cms: 'ber' }),
    sign('pdfbox-signs-junk-prefixed', file('in-junk-prefix')),
    sign('pdfbox-signs-wrong-startxref', file('in-wrong-startxref')),
    sign('pdfbox-signs-startxref-past-end', file('in-startxref-past-end')),
    sign('pdfbox-signs-linearized-cr', file('in-linearized-cr')),
  ];
  const signed = await runJobs(jobs, dir);
  const failures = signed.filter((r) => r.kind === 'error');
  if (failures.length) throw new Error(`PDFBox could not sign: ${failures.map((f) => f.fields.join(' ')).join('; ')}`);

  // Damage made to real signed files afterwards.
  const approval = readFileSync(file('pdfbox-approval-invisible'));
  writeFileSync(file('damaged-junk-prefix'), Buffer.concat([JUNK, approval]));
  writeFileSync(file('damaged-wrong-startxref'), setLastStartxref(approval, wrongOffset));
  // All nines, the same number of digits: past the end, while the file keeps its length (so the
  // ByteRange still ends at the end of the file and only the digest can tell).
  writeFileSync(file('damaged-startxref-past-end'), setLastStartxref(approval, (current) => 10 ** String(current).length - 1));

  const two = { coverage: ['entire-revision', 'entire-file'] } as const;
  const hashFailure = { outcome: ['TOTAL_FAILED', 'HASH_FAILURE'] } as const;
  const c = (name: string, made: string, rest: Partial<CorpusCase> = {}): CorpusCase => ({
    name,
    file: file(name),
    made,
    coverage: ['entire-file'],
    outcome: ['INDETERMINATE', 'TRY_LATER'],
    subFilter: 'adbe.pkcs7.detached',
    ...rest,
  });
  const cases: CorpusCase[] = [
    c('pdfbox-approval-invisible', 'PDFBox 2 + BC, adbe.pkcs7.detached, invisible, RSA, DER CMS'),
    c('pdfbox-approval-visible', 'PDFBox 2 + BC, adbe.pkcs7.detached, visible (image appearance), RSA, DER CMS'),
    c('pdfbox-certify-p1', 'PDFBox 2 + BC, certification DocMDP P=1', { certify: 1 }),
    c('pdfbox-certify-p2', 'PDFBox 2 + BC, certification DocMDP P=2, visible', { certify: 2 }),
    c('pdfbox-certify-p3', 'PDFBox 2 + BC, certification DocMDP P=3', { certify: 3 }),
    c('pdfbox-second-signature', 'PDFBox 2 + BC, a visible second signature incremental on a PDFBox-signed file', two),
    c('pdfbox-over-signpdf', 'PDFBox 2 + BC, a second signature incremental on a @signpdf-signed file', two),
    c('pdfbox-encrypted-aes128', 'PDFBox 2: encrypted (standard handler R4, AES-128, empty user password), then signed', { encrypted: true }),
    c('pdfbox-encrypted-rc4-128', 'PDFBox 2: encrypted (standard handler, RC4 128-bit, empty user password), then signed', { encrypted: true }),
    c('pdfbox-encrypted-user-password', 'PDFBox 2: encrypted (AES-128) with a user password, then signed', { encrypted: true, password: USER_PASSWORD }),
    c('pdfbox-ecdsa-p256', 'PDFBox 2 + BC, ECDSA P-256 with SHA-256', { algorithm: /ECDSA/i }),
    c('pdfbox-rsa-pss', 'PDFBox 2 + BC, RSASSA-PSS (SHA256WITHRSAANDMGF1)', { algorithm: /PSS/i }),
    c('pdfbox-bc-default-encoding', 'PDFBox 2 + BC, CMS as CMSSignedData.getEncoded() writes it (BC default)'),
    c('signpdf-adbe', '@signpdf/signpdf (node-forge CMS), adbe.pkcs7.detached'),
    c('signpdf-cades', '@signpdf/signpdf (node-forge CMS), ETSI.CAdES.detached', { subFilter: 'ETSI.CAdES.detached' }),
    c('openssl-cms-stream-ber', 'openssl cms -sign -binary -stream -outform DER (BER, indefinite lengths; the signed bytes also encapsulated)', {
      pdfsigMisjudges: 'poppler answers "Digest Mismatch" for a detached-sub-filter CMS that also encapsulates the content, although the digest over the ByteRange matches (openssl cms -verify and BC agree)',
    }),
    c('pdfbox-signs-junk-prefixed', '100 bytes of junk before %PDF- (every xref offset shifted), then signed by PDFBox'),
    c('pdfbox-signs-wrong-startxref', 'a wrong startxref value, then signed by PDFBox'),
    c('pdfbox-signs-startxref-past-end', 'startxref pointing past the end, then signed by PDFBox'),
    c('pdfbox-signs-linearized-cr', 'qpdf --linearize, CR-only line endings (qpdf --check clean), then signed by PDFBox'),
    // The ByteRange still counts from the first byte of the file, so it now misses /Contents.
    c('damaged-junk-prefix', 'a PDFBox-signed file with 100 bytes of junk put before %PDF- afterwards', { coverage: ['invalid'], outcome: ['TOTAL_FAILED', 'FORMAT_FAILURE'] }),
    // The last startxref is inside the signed range: the digest no longer matches.
    c('damaged-wrong-startxref', 'a PDFBox-signed file whose last startxref was changed afterwards', hashFailure),
    c('damaged-startxref-past-end', 'a PDFBox-signed file whose last startxref was set past the end afterwards', hashFailure),
  ];

  const verified: JobResult[] = await runJobs(cases.map((k) => ({ op: 'verify', in: k.file, ...(k.password ? { password: k.password } : {}) })), dir);
  const pdfbox: Corpus['pdfbox'] = new Map();
  for (const row of verified) {
    if (row.kind === 'sig') {
      const [fileName, field, digest, valid, detail] = row.fields as [string, string, string, string, string?];
      if (!pdfbox.has(fileName)) pdfbox.set(fileName, new Map());
      pdfbox.get(fileName)!.set(field, { digest: digest === 'true', valid: valid === 'true', detail: detail ?? '' });
    } else if (row.kind === 'error' || row.kind === 'nosig') {
      pdfbox.set(row.fields[0]!, new Map());
    }
  }
  return { pki, cases, pdfbox };
}
