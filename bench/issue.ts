/**
 * Licence issuance benchmark: the whole issuance in one process (validation, numbering,
 * rendering with the embedded fonts, sealing in a PDF thread, the record and its audit entry in
 * one transaction) for a 营业执照, sequentially after a warm-up, beside the peer's part of the
 * same work: @signpdf/signpdf signing the very PDF the service rendered (pdf-lib placeholder,
 * P12 signer). Prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { PDFDocument } from 'pdf-lib';
import { pino } from 'pino';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { openService } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { sampleBusinessLicence } from '../test/helpers/licences.js';
import { tempDir } from '../test/helpers/tools.js';

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function timed(label: string, runs: number, run: (i: number) => Promise<unknown>): Promise<{ runs: number; perSecond: number; medianMs: number; p99Ms: number }> {
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  const total = performance.now() - started;
  times.sort((a, b) => a - b);
  process.stderr.write(`  ${label}: ${runs} runs\n`);
  return { runs, perSecond: Math.round((runs / total) * 1000 * 10) / 10, medianMs: Math.round(percentile(times, 50) * 10) / 10, p99Ms: Math.round(percentile(times, 99) * 10) / 10 };
}

async function main(): Promise<void> {
  process.stderr.write('preparing a service and its development PKI...\n');
  const service = await openService(loadConfig({ DATA_DIR: tempDir('bench-issue'), PORT: '0', LOG_LEVEL: 'silent', WORKERS: '1' }), pino({ level: 'silent' }));
  try {
    const request = (i: number) => {
      const sample = sampleBusinessLicence(`张三科技有限公司第${i}分公司`);
      return { holder: sample.holder, fields: sample.fields };
    };
    // warm-up: fonts parsed, the PDF thread started, the seal's material loaded
    for (let i = 0; i < 5; i++) await service.licenses.issue('business-licence', request(i));
    const issued = await timed('issuance (render, seal, record)', 60, (i) => service.licenses.issue('business-licence', request(100 + i)));
    const record = await service.licenses.issue('business-licence', request(1000));
    const rendered = (await service.licenses.pdf(record.id))!;
    const devSeal = service.devPki!.seals.find((s) => s.id === 'scjg-official')!;
    const p12 = readFileSync(devSeal.p12Path);
    const peer = await timed('@signpdf/signpdf signing the rendered licence', 20, async () => {
      const pdfDoc = await PDFDocument.load(rendered);
      pdflibAddPlaceholder({ pdfDoc, reason: 'bench', contactInfo: '', name: 'bench', location: '' });
      const withPlaceholder = Buffer.from(await pdfDoc.save({ useObjectStreams: false }));
      return new SignPdf().sign(withPlaceholder, new P12Signer(p12, { passphrase: service.devPki!.keystorePassword }));
    });
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'issue', node: process.version, cpus: os.cpus().length, type: 'business-licence', licenceBytes: rendered.length, results: { service: issued, signpdfSigningOnly: peer }, target: { medianMs: 150 } }, null, 2)}\n`,
    );
  } finally {
    await service.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
