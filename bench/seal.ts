/**
 * Sealing benchmark: this service's signing path, with the seal key in a PKCS#12 keystore (RSA
 * 2048, ECDSA P-256, and SM2 as CMS and as a GB/T 38540 SES_Signature) and in a PKCS#11 token
 * (SoftHSM2, when installed), against @signpdf/signpdf (P12 signer, pdf-lib placeholder) on the
 * same files in the same run. Prints one JSON object.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { ensureDevPki, type DevPki } from '../src/devpki/index.js';
import { issueSealCertificateFromCsr } from '../src/devpki/issue.js';
import { PdfDocument } from '../src/pdf/document.js';
import { prepareImage } from '../src/pdf/image.js';
import { PadesCmsBuilder } from '../src/pki/cms-signer.js';
import { buildCertificationRequest } from '../src/pki/csr.js';
import { loadPkcs12Signer } from '../src/pki/key-object-signer.js';
import { generateTokenKey } from '../src/pki/pkcs11/keygen.js';
import type { Pkcs11KeyRef } from '../src/pki/pkcs11/key-ref.js';
import { finalizeModules } from '../src/pki/pkcs11/module.js';
import { Pkcs11Signer } from '../src/pki/pkcs11/token-signer.js';
import { sealCertificateSubject } from '../src/seals/certificate-subject.js';
import { renderSealPng } from '../src/seals/image.js';
import { decodePng } from '../src/seals/png.js';
import { sealDocument, type SealMaterial, type SealOptions } from '../src/signing/pades.js';
import { SesSignatureBuilder } from '../src/signing/ses-container.js';
import { makeLargePdf, makePdf } from '../test/helpers/pdfs.js';
import { createSoftHsm, SOFTHSM_MODULE } from '../test/hsm/softhsm.js';

interface Stats {
  runs: number;
  perSecond: number;
  medianMs: number;
  p99Ms: number;
  peakMemoryOverFileSize: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(label: string, fileSize: number, budgetMs: number, maxRuns: number, run: () => Promise<unknown>): Promise<Stats> {
  await run(); // warm-up
  global.gc?.();
  const baseline = process.memoryUsage();
  let peak = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.heapUsed + m.arrayBuffers - (baseline.heapUsed + baseline.arrayBuffers));
  };
  const timer = setInterval(sample, 2);
  const times: number[] = [];
  const started = performance.now();
  while (times.length < maxRuns && (times.length < 3 || performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
    sample();
  }
  clearInterval(timer);
  const total = performance.now() - started;
  times.sort((a, b) => a - b);
  process.stderr.write(`  ${label}: ${times.length} runs\n`);
  return {
    runs: times.length,
    perSecond: Math.round((times.length / total) * 1000 * 10) / 10,
    medianMs: Math.round(percentile(times, 50) * 100) / 100,
    p99Ms: Math.round(percentile(times, 99) * 100) / 100,
    peakMemoryOverFileSize: Math.round((peak / fileSize) * 100) / 100,
  };
}

/**
 * The same seal kind with its key generated in a fresh SoftHSM2 token and its certificate
 * issued from a request signed there; undefined when SoftHSM2 is not installed.
 */
async function tokenMaterial(pki: DevPki, image: SealMaterial['image']): Promise<SealMaterial | undefined> {
  if (!existsSync(SOFTHSM_MODULE)) return undefined;
  const hsm = createSoftHsm();
  hsm.initToken('bench', '123456');
  process.env.BENCH_HSM_PIN = '123456';
  const ref: Pkcs11KeyRef = { kind: 'pkcs11', module: SOFTHSM_MODULE, token: { label: 'bench' }, key: { label: 'bench' }, pin: { env: 'BENCH_HSM_PIN' } };
  const { publicKey } = await generateTokenKey(ref, { type: 'rsa-2048', label: 'bench' });
  const signer = await Pkcs11Signer.open(ref);
  const subject = sealCertificateSubject({ orgName: '某某市市场监督管理局', orgUscc: '11370500MB0100001H', sealType: 'approval' });
  const csr = await buildCertificationRequest({ subject, publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }), signer });
  const certDer = await issueSealCertificateFromCsr(csr, { baseUrl: pki.issuedBaseUrl, sealTypes: ['approval'] }, pki.sealCa);
  return { cms: new PadesCmsBuilder([certDer, pki.sealCa.certDer, pki.root.certDer], signer), image, signerName: '某某市市场监督管理局审批专用章' };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-seal-'));
  process.stderr.write('creating a development PKI and test files...\n');
  const pki = await ensureDevPki({
    dir,
    baseUrl: 'http://localhost:8080',
    seals: (['rsa', 'ec', 'sm2'] as const).map((keyKind) => ({ id: `bench-${keyKind}`, orgName: '某某市市场监督管理局', uscc: '11370500MB0100001H', sealName: '审批专用章', sealType: 'approval' as const, keyKind })),
  });
  const image = prepareImage(decodePng(renderSealPng({ orgName: '某某市市场监督管理局', purpose: '审批专用章', diameterMm: 40 })));
  const materialOf = (index: number): SealMaterial => {
    const seal = pki.seals[index]!;
    const { signer, chainDer } = loadPkcs12Signer(readFileSync(seal.p12Path), pki.keystorePassword);
    const ses = seal.sesSeal ? new SesSignatureBuilder(seal.sesSeal, chainDer[0]!, signer) : undefined;
    return { cms: new PadesCmsBuilder(chainDer, signer), image, signerName: '某某市市场监督管理局审批专用章', ...(ses ? { ses } : {}) };
  };
  const p12 = readFileSync(pki.seals[0]!.p12Path);
  const [material, ecdsa, sm2] = [materialOf(0), materialOf(1), materialOf(2)];
  const token = await tokenMaterial(pki, material.image);

  const files: Array<[string, Buffer]> = [
    ['1-page', await makePdf(1)],
    ['100-page', await makePdf(100)],
    ['20MB', await makeLargePdf(20)],
  ];
  const results: Record<string, unknown> = {};
  for (const [name, bytes] of files) {
    process.stderr.write(`${name} (${(bytes.length / 1e6).toFixed(1)} MB)\n`);
    const seal = (with_: SealMaterial, format: SealOptions['format'] = 'cms') => async () => {
      const doc = PdfDocument.load(bytes);
      return sealDocument(doc, with_, { placement: { kind: 'stamp', pageIndex: 0, centerX: 400, centerY: 600, size: 113 }, format });
    };
    const ours = await measure('this service, PKCS#12 key', bytes.length, 3000, 2000, seal(material));
    const ourEcdsa = await measure('this service, ECDSA P-256', bytes.length, 3000, 2000, seal(ecdsa));
    const ourSm2 = await measure('this service, SM2 (CMS)', bytes.length, 3000, 2000, seal(sm2));
    const ourSes = await measure('this service, SM2 (GB/T 38540 SES_Signature)', bytes.length, 3000, 2000, seal(sm2, 'ses'));
    const ourToken = token ? await measure('this service, PKCS#11 token key', bytes.length, 3000, 2000, seal(token)) : undefined;
    const theirs = await measure('@signpdf/signpdf', bytes.length, 5000, 200, async () => {
      const pdfDoc = await PDFDocument.load(bytes);
      pdflibAddPlaceholder({ pdfDoc, reason: 'bench', contactInfo: '', name: 'bench', location: '' });
      const withPlaceholder = Buffer.from(await pdfDoc.save({ useObjectStreams: false }));
      // A P12Signer consumes its buffer on first use, so each signature needs a new one.
      return new SignPdf().sign(withPlaceholder, new P12Signer(p12, { passphrase: pki.keystorePassword }));
    });
    results[name] = {
      fileBytes: bytes.length,
      service: ours,
      serviceEcdsa: ourEcdsa,
      serviceSm2Cms: ourSm2,
      serviceSm2Ses: ourSes,
      servicePkcs11: ourToken ?? { skipped: 'softhsm2 is not installed' },
      signpdf: theirs,
      speedup: Math.round((ours.perSecond / theirs.perSecond) * 10) / 10,
    };
  }
  finalizeModules();
  const keys = {
    service: 'PKCS#12 keystore, RSA 2048, in process',
    serviceEcdsa: 'PKCS#12 keystore, ECDSA P-256, in process',
    serviceSm2Cms: 'PKCS#12 keystore, SM2 (sm-crypto-v2), CMS adbe.pkcs7.detached',
    serviceSm2Ses: 'PKCS#12 keystore, SM2 (sm-crypto-v2), GB/T 38540 SES_Signature with its SESeal',
    servicePkcs11: token ? 'SoftHSM2 token, RSA 2048, C_Sign per seal' : 'skipped: softhsm2 is not installed' };
  process.stdout.write(`${JSON.stringify({ benchmark: 'seal', node: process.version, cpus: os.cpus().length, keys, results }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
