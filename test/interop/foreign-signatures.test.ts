/**
 * Issue 13 ("Proof"): signatures made by other products, checked against independent verifiers.
 *
 * The corpus is built at run time in a temporary directory (corpus.ts): a test PKI made by
 * openssl, PDFs signed by PDFBox 2 + BouncyCastle (test/interop/java/SignPdf.java, compiled once
 * per source version into os.tmpdir() and run as one JVM for all jobs), by @signpdf/signpdf and
 * by `openssl cms -stream`, and damaged variants of real signed files. For every file our
 * verifier (validatePdf, the test root as trust anchor, no revocation checker, so
 * INDETERMINATE/TRY_LATER is the best outcome) must not throw, must find the expected signatures
 * and coverage, and must reach the same integrity verdict per field (messageDigestMatches &&
 * signatureValid) as pdfsig ("Signature is Valid"), or, where pdfsig gives no verdict or
 * misjudges, as PDFBox + BouncyCastle (digest over the ByteRange and SignerInformation.verify).
 *
 * Findings recorded here:
 * - BouncyCastle's default CMSSignedData.getEncoded() writes ContentInfo, its [0], SignedData and
 *   SignedData.certificates with indefinite lengths (BER); getEncoded("DER") is definite.
 * - `openssl cms -sign -binary -stream -outform DER` (OpenSSL 3.0) writes BER with indefinite
 *   lengths and, despite signing "detached", also encapsulates the signed bytes (eContent as a
 *   constructed OCTET STRING). poppler then says "Digest Mismatch"; openssl cms -verify and BC
 *   verify it, so PDFBox + BC is the reference for that file.
 * - poppler reports encrypted files as "Not total document signed" although the ByteRange ends
 *   at the end of the file, so coverage is compared with pdfsig only for unencrypted files.
 *
 * - Junk before `%PDF-` after signing: pdfsig ("Digest Mismatch") and PDFBox (it reads /Contents
 *   at the ByteRange's absolute offsets) both take the ByteRange from the first byte of the file,
 *   as we do, so the signature no longer covers what was signed.
 * - PDFBox signs damaged files (junk before the header, a wrong startxref, startxref past the
 *   end) after repairing them: its update's /Prev names the real xref section.
 *
 * - PDFBox 2 encrypting a file encrypts the whole /Contents placeholder before putting the CMS
 *   over its start, so the padding after the CMS is not zeros; readers ignore what follows the
 *   CMS's own length, and so do we.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { validatePdf } from '../../src/validation/engine.js';
import type { ValidationReport } from '../../src/validation/report.js';
import { nssDbWithRoot, pdfsig, tempDir, type PdfsigSignature } from '../helpers/tools.js';
import { PdfError } from '../../src/pdf/errors.js';
import { buildCorpus, USER_PASSWORD, type Corpus, type CorpusCase } from './corpus.js';
import { indefiniteLengthElements } from './harness.js';


const CASE_NAMES = [
  'pdfbox-approval-invisible',
  'pdfbox-approval-visible',
  'pdfbox-certify-p1',
  'pdfbox-certify-p2',
  'pdfbox-certify-p3',
  'pdfbox-second-signature',
  'pdfbox-over-signpdf',
  'pdfbox-encrypted-aes128',
  'pdfbox-encrypted-rc4-128',
  'pdfbox-encrypted-user-password',
  'pdfbox-ecdsa-p256',
  'pdfbox-rsa-pss',
  'pdfbox-bc-default-encoding',
  'signpdf-adbe',
  'signpdf-cades',
  'openssl-cms-stream-ber',
  'pdfbox-signs-junk-prefixed',
  'pdfbox-signs-wrong-startxref',
  'pdfbox-signs-startxref-past-end',
  'pdfbox-signs-linearized-cr',
  'damaged-junk-prefix',
  'damaged-wrong-startxref',
  'damaged-startxref-past-end',
];

let corpus: Corpus;
let nssDir: string;

beforeAll(async () => {
  corpus = await buildCorpus(tempDir('interop'));
  nssDir = nssDbWithRoot(corpus.pki.rootPem);
  expect(corpus.cases.map((c) => c.name).sort()).toEqual([...CASE_NAMES].sort());
}, 180_000);

interface Outcome {
  report?: ValidationReport;
  error?: string;
  pdfsig: PdfsigSignature[];
}

const outcomes = new Map<string, Promise<Outcome>>();

function outcomeOf(c: CorpusCase): Promise<Outcome> {
  let outcome = outcomes.get(c.name);
  if (!outcome) {
    outcome = (async () => {
      const theirs = pdfsig(c.file, nssDir, c.password);
      try {
        return { report: await validatePdf(readFileSync(c.file), { trustAnchors: [corpus.pki.rootDer], ...(c.password ? { password: c.password } : {}) }), pdfsig: theirs };
      } catch (err) {
        return { error: `${(err as Error).name}: ${(err as Error).message}`, pdfsig: theirs };
      }
    })();
    outcomes.set(c.name, outcome);
  }
  return outcome;
}

const POPPLER_VERDICT = /Signature Validation: (Signature is Valid|Signature is Invalid|Digest Mismatch)\./;

async function checkCase(name: string): Promise<void> {
  const c = corpus.cases.find((k) => k.name === name)!;
  const { report, error, pdfsig: theirs } = await outcomeOf(c);
  expect(error, `${name} (${c.made}): our verifier threw`).toBeUndefined();
  // files damaged after signing are read by rebuilding their xref, and the report says so
  expect(report!.document.structure.reconstructed, `${name}: ${report!.document.summary}`).toBe(name.startsWith('damaged-'));
  if (name.startsWith('damaged-')) expect(report!.document.summary).toMatch(/rebuilt by scanning/);
  const signatures = report!.signatures.filter((s) => s.kind === 'signature');
  expect(signatures.map((s) => s.coverage), `${name}: coverage`).toEqual(c.coverage);
  const pdfbox = corpus.pdfbox.get(c.file) ?? new Map();
  for (const sig of signatures) {
    const context = `${name} ${sig.fieldName} (${c.made}); problems: ${sig.problems.join(' | ')}`;
    const ours = sig.integrity.messageDigestMatches === true && sig.integrity.signatureValid === true;
    const popplers = theirs.find((s) => s.field === sig.fieldName);
    const popplerVerdict = popplers ? POPPLER_VERDICT.exec(popplers.raw)?.[1] : undefined;
    const boxed = pdfbox.get(sig.fieldName);
    const pdfboxVerdict = boxed ? boxed.digest && boxed.valid : undefined;
    if (popplerVerdict && !c.pdfsigMisjudges) {
      expect(ours, `${context}: ours ${ours}, pdfsig "${popplerVerdict}"`).toBe(popplerVerdict === 'Signature is Valid');
    } else {
      expect(pdfboxVerdict, `${context}: neither pdfsig nor PDFBox judged this signature`).toBeDefined();
      expect(ours, `${context}: ours ${ours}, PDFBox + BC ${pdfboxVerdict} ${boxed?.detail ?? ''}`).toBe(pdfboxVerdict);
    }
    if (popplers && !c.encrypted) expect(sig.coversWholeFile, `${context}: whole file, pdfsig ${popplers.totalDocument}`).toBe(popplers.totalDocument);
    expect([sig.indication, sig.subIndication], context).toEqual(c.outcome);
    expect(sig.subFilter).toBe(c.subFilter);
    if (c.outcome[1] === 'TRY_LATER') {
      expect(sig.certificatePath.trustAnchorReached, context).toBe(true);
      expect(sig.changesAfterSigning.permitted, context).toBe(true);
    }
  }
  if (c.certify) expect(signatures[0]!.certification).toEqual({ permission: c.certify });
  if (c.algorithm) expect(signatures[0]!.algorithms.signature).toMatch(c.algorithm);
}

describe('signatures made by other products: our integrity verdict agrees with pdfsig / PDFBox + BouncyCastle', () => {
  for (const name of CASE_NAMES) {
    it(name, async () => checkCase(name));
  }

  it('the references agree with how each file was made', () => {
    for (const c of corpus.cases) {
      const verdicts = [...(corpus.pdfbox.get(c.file)?.values() ?? [])].map((v) => v.digest && v.valid);
      const expectValid = c.outcome[1] === 'TRY_LATER';
      expect(verdicts, `${c.name}: PDFBox + BC`).toEqual(c.coverage.map(() => expectValid));
    }
  });

  it('the damaged files are damaged as described', () => {
    const bytesOf = (name: string): Buffer => readFileSync(corpus.cases.find((c) => c.name === name)!.file);
    const startxrefs = (pdf: Buffer): number[] => [...pdf.toString('latin1').matchAll(/startxref\s+(\d+)/g)].map((m) => Number(m[1]));
    const pointsAtXref = (pdf: Buffer, offset: number): boolean => pdf.toString('latin1', offset, offset + 4) === 'xref' || /^\d+ \d+ obj/.test(pdf.toString('latin1', offset, offset + 20));
    for (const name of ['pdfbox-signs-junk-prefixed', 'damaged-junk-prefix']) expect(bytesOf(name).indexOf('%PDF-'), name).toBe(100);
    // Signed afterwards: the damage is in the first revision, PDFBox's update follows it.
    const signedWrong = bytesOf('pdfbox-signs-wrong-startxref');
    expect(pointsAtXref(signedWrong, startxrefs(signedWrong)[0]!)).toBe(false);
    const signedPast = bytesOf('pdfbox-signs-startxref-past-end');
    expect(startxrefs(signedPast)[0]).toBeGreaterThan(signedPast.length);
    // Damaged after signing: the last startxref.
    const wrong = bytesOf('damaged-wrong-startxref');
    expect(pointsAtXref(wrong, startxrefs(wrong).pop()!)).toBe(false);
    const past = bytesOf('damaged-startxref-past-end');
    expect(startxrefs(past).pop()).toBeGreaterThan(past.length);
    for (const name of ['pdfbox-approval-invisible', 'signpdf-adbe']) {
      const intact = bytesOf(name);
      expect(startxrefs(intact).every((offset) => pointsAtXref(intact, offset)), name).toBe(true);
    }
  });

  it('records which CMS elements other encoders write with indefinite lengths', () => {
    const cmsOf = (name: string): Buffer => {
      const text = readFileSync(corpus.cases.find((c) => c.name === name)!.file).toString('latin1');
      const hex = [...text.matchAll(/\/Contents\s*<([0-9A-Fa-f]{200,})>/g)].pop()![1]!;
      return Buffer.from(hex, 'hex');
    };
    expect(indefiniteLengthElements(cmsOf('pdfbox-bc-default-encoding'))).toEqual(['ContentInfo', 'ContentInfo.content', 'SignedData', 'SignedData.certificates']);
    expect(indefiniteLengthElements(cmsOf('pdfbox-approval-invisible'))).toEqual([]);
    expect(indefiniteLengthElements(cmsOf('openssl-cms-stream-ber'))).toEqual([
      'ContentInfo',
      'ContentInfo.content',
      'SignedData',
      'SignedData.encapContentInfo',
      'SignedData.encapContentInfo.eContent',
      'SignedData.encapContentInfo.eContent OCTET STRING',
    ]);
    expect(indefiniteLengthElements(cmsOf('signpdf-adbe'))).toEqual([]);
  });
});

describe('an encrypted file with a user password', () => {
  it('is refused without the password and with a wrong one, and verified with it', async () => {
    const c = corpus.cases.find((k) => k.name === 'pdfbox-encrypted-user-password')!;
    const bytes = readFileSync(c.file);
    for (const password of [undefined, 'wrong']) {
      const refused = await validatePdf(bytes, { trustAnchors: [corpus.pki.rootDer], ...(password ? { password } : {}) }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(PdfError);
      expect((refused as PdfError).code).toBe('ENCRYPTED');
    }
    const report = await validatePdf(bytes, { trustAnchors: [corpus.pki.rootDer], password: USER_PASSWORD });
    expect(report.signatures[0]!.integrity).toMatchObject({ messageDigestMatches: true, signatureValid: true });
  });
});

