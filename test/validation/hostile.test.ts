import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfError } from '../../src/pdf/errors.js';
import { validatePdf } from '../../src/validation/engine.js';
import { makePdf, qpdfRewrite } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
let sealed: Buffer;

beforeAll(async () => {
  svc = await startService();
  sealed = await sealOk(svc, await sealOk(svc, await makePdf(2), { sealId: 'scjg-official' }), { sealId: 'xzsp-official', mode: 'seam' });
});
afterAll(async () => svc?.close());

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function mustNotCrash(input: Buffer): Promise<'report' | 'rejected'> {
  try {
    const report = await validatePdf(input, { trustAnchors: [svc.service.devPki!.root.certDer] });
    expect(Array.isArray(report.signatures)).toBe(true);
    return 'report';
  } catch (err) {
    if (err instanceof PdfError) return 'rejected';
    throw new Error(`unexpected ${(err as Error).name}: ${(err as Error).message}`);
  }
}

describe('hostile input to the verifier', () => {
  it('survives thousands of mutated and truncated signed PDFs with a report or a PdfError', async () => {
    const next = random(20261125);
    const outcomes = { report: 0, rejected: 0 };
    for (let i = 0; i < 1500; i++) {
      const mutated = Buffer.from(sealed);
      const edits = 1 + Math.floor(next() * 8);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * mutated.length);
        const kind = next();
        if (kind < 0.6) mutated[at] = Math.floor(next() * 256);
        else if (kind < 0.8) mutated[at] = '()<>[]/%0123456789 '.charCodeAt(Math.floor(next() * 19));
        else mutated.write(['R', 'obj', 'endobj', '<<', '>>', 'stream', '/Prev 0', '99999 0 R'][Math.floor(next() * 8)]!, at, 'latin1');
      }
      const input = next() < 0.2 ? mutated.subarray(0, Math.floor(next() * mutated.length)) : mutated;
      outcomes[await mustNotCrash(input)]++;
    }
    expect(outcomes.report).toBeGreaterThan(100);
    expect(outcomes.report + outcomes.rejected).toBe(1500);
  });

  it('bounds deep nesting, reference loops and huge declared sizes', async () => {
    const deep = Buffer.from(`%PDF-1.7\n1 0 obj\n${'['.repeat(50_000)}\nendobj\nxref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n${9 + 8 + 50_000 + 8}\n%%EOF\n`, 'latin1');
    expect(await mustNotCrash(deep)).toBe('rejected');
    const loopText = '%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R /AcroForm << /Fields [1 0 R] >> >>\nendobj\n';
    const xref = loopText.length;
    const loop = Buffer.from(`${loopText}xref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`, 'latin1');
    expect(['report', 'rejected']).toContain(await mustNotCrash(loop));
  });

  it('survives mutated encrypted files and files that must be rebuilt from thousands of object headers', async () => {
    const next = random(20261130);
    const encrypted = qpdfRewrite(sealed, ['--encrypt', '', 'owner', '128', '--use-aes=y', '--']);
    expect(await mustNotCrash(encrypted)).toBe('report');
    for (let i = 0; i < 300; i++) {
      const mutated = Buffer.from(encrypted);
      // aim at the encryption dictionary and the trailer half of the time
      const encryptAt = mutated.lastIndexOf('/Encrypt');
      for (let e = 0; e < 4; e++) {
        const at = next() < 0.5 && encryptAt > 0 ? encryptAt + Math.floor(next() * 200) : Math.floor(next() * mutated.length);
        if (at < mutated.length) mutated[at] = Math.floor(next() * 256);
      }
      await mustNotCrash(mutated);
    }
    // no xref at all, 100,000 object headers (most of them junk): rebuilt by scanning, bounded
    const junk = Buffer.from(`%PDF-1.7\n${Array.from({ length: 100_000 }, (_, i) => `${i % 50} 0 obj\n<< /K ${i} >>\nendobj\n`).join('')}%%EOF\n`, 'latin1');
    expect(['report', 'rejected']).toContain(await mustNotCrash(junk));
  });
});

