/**
 * Verification benchmark: validations per second of the whole engine (structure, CMS, path,
 * revocation from the cached status, change analysis) for three documents, and of poppler's
 * pdfsig on the same files in the same run (integrity only: -nocert -no-ocsp; each run is a
 * process of its own, so its start-up is part of its time). Prints one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { pino } from 'pino';
import { openService } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { PdfDocument } from '../src/pdf/document.js';
import { sealDocument } from '../src/signing/pades.js';
import { validatePdf } from '../src/validation/engine.js';
import { makeLargePdf, makePdf } from '../test/helpers/pdfs.js';
import { tempDir } from '../test/helpers/tools.js';

async function main(): Promise<void> {
  process.stderr.write('preparing a service, its PKI and the documents...\n');
  const service = await openService(loadConfig({ DATA_DIR: tempDir('bench-verify'), PORT: '0', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
  const seal = async (pdf: Buffer, id: string, reason?: string): Promise<Buffer> => {
    const material = await service.sealMaterials.material((await service.seals.get(id))!);
    const out = await sealDocument(PdfDocument.load(pdf), material, { placement: { kind: 'stamp', pageIndex: 0, centerX: 200, centerY: 300, size: 113 }, reason });
    return Buffer.concat([out.original, out.appended]);
  };
  let five = await makePdf(5);
  for (const id of ['scjg-official', 'scjg-approval', 'xzsp-official', 'xzsp-approval', 'scjg-official']) five = await seal(five, id);
  // Distinct documents (each its own signature) in turn, more of them than the parse cache holds:
  // every verification parses its signature afresh. The named single documents below show the
  // warm case, the same file verified again (what a licence's public page sees).
  const onePage = await makePdf(1);
  const distinct: Buffer[] = [];
  for (let i = 0; i < 200; i++) distinct.push(await seal(onePage, 'scjg-approval', `document ${i}`));
  const docs: Array<[string, Buffer | Buffer[]]> = [
    ['1-signature-1-page-distinct-files', distinct],
    ['1-signature-1-page', await seal(onePage, 'scjg-approval')],
    ['5-signatures-5-revisions', five],
    ['20MB', await seal(await makeLargePdf(20), 'xzsp-official')],
  ];
  const results: Record<string, unknown> = {};
  for (const [name, files] of docs) {
    const list = Array.isArray(files) ? files : [files];
    const pdf = list[0]!;
    const check = await validatePdf(pdf, service.validation);
    if (check.document.passed !== check.document.signatures) throw new Error(`${name}: expected every signature to pass`);
    const times: number[] = [];
    const started = performance.now();
    while (times.length < 3 || (performance.now() - started < 3000 && times.length < 1000)) {
      const t0 = performance.now();
      await validatePdf(list[times.length % list.length]!, service.validation);
      times.push(performance.now() - t0);
    }
    const total = performance.now() - started;
    times.sort((a, b) => a - b);
    results[name] = {
      fileBytes: pdf.length,
      signatures: check.document.signatures,
      runs: times.length,
      perSecond: Math.round((times.length / total) * 1000 * 10) / 10,
      medianMs: Math.round(times[Math.floor(times.length / 2)]! * 100) / 100,
      p99Ms: Math.round(times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]! * 100) / 100,
    };
    process.stderr.write(`  ${name}: ${times.length} runs\n`);
    (results[name] as Record<string, unknown>).pdfsig = pdfsigRate(pdf, name);
  }
  await service.close();
  process.stdout.write(`${JSON.stringify({ benchmark: 'verify', node: process.version, cpus: os.cpus().length, results }, null, 2)}\n`);
}

/** pdfsig on the same file for about three seconds: runs per second and median. */
function pdfsigRate(pdf: Buffer, name: string): Record<string, number> | string {
  const file = path.join(tempDir('bench-pdfsig'), `${name}.pdf`);
  writeFileSync(file, pdf);
  const probe = spawnSync('pdfsig', ['-nocert', '-no-ocsp', file], { encoding: 'utf8' });
  if (probe.error) return `pdfsig not available: ${probe.error.message}`;
  const times: number[] = [];
  const started = performance.now();
  while (times.length < 3 || (performance.now() - started < 3000 && times.length < 500)) {
    const t0 = performance.now();
    spawnSync('pdfsig', ['-nocert', '-no-ocsp', file]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { runs: times.length, perSecond: Math.round((times.length / (performance.now() - started)) * 1000 * 10) / 10, medianMs: Math.round(times[Math.floor(times.length / 2)]! * 100) / 100 };
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
