import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signedRevisionDigests } from '../../src/licenses/file-verification.js';
import type { ValidationReport } from '../../src/validation/report.js';

/** Only what the digests read of a report: kind, byte range and its soundness, and the seal found. */
function reportOf(signatures: Array<{ end: number; valid?: boolean; seal?: boolean; kind?: 'signature' | 'document-timestamp' }>): ValidationReport {
  return {
    signatures: signatures.map((s) => ({
      kind: s.kind ?? 'signature',
      byteRange: [0, 10, 20, s.end - 20],
      integrity: { byteRangeValid: s.valid ?? true },
      seal: s.seal === false ? null : { id: 'seal', name: 'seal' },
    })),
  } as unknown as ValidationReport;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('the digests of the revisions signatures sign', () => {
  it('hash each signed prefix of the file, in signature order, whatever order the ends come in', () => {
    const pdf = randomBytes(5000);
    const digests = signedRevisionDigests(pdf, reportOf([{ end: 4000 }, { end: 1200 }, { end: 5000 }, { end: 1200 }]));
    expect(digests).toEqual([
      { index: 0, sha256: sha256(pdf.subarray(0, 4000)) },
      { index: 1, sha256: sha256(pdf.subarray(0, 1200)) },
      { index: 2, sha256: sha256(pdf) },
      { index: 3, sha256: sha256(pdf.subarray(0, 1200)) },
    ]);
  });

  it('leave out document timestamps, unsound ranges, ranges past the end and signatures by no registered seal', () => {
    const pdf = randomBytes(3000);
    const digests = signedRevisionDigests(pdf, reportOf([{ end: 1000, kind: 'document-timestamp' }, { end: 1500, valid: false }, { end: 3001 }, { end: 2000, seal: false }, { end: 2500 }]));
    expect(digests).toEqual([{ index: 4, sha256: sha256(pdf.subarray(0, 2500)) }]);
  });
});
