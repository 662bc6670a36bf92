import { PdfError } from '../../src/pdf/errors.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function writeTemp(name: string, data: Buffer): string {
  const file = path.join(tempDir('pdf'), name);
  writeFileSync(file, data);
  return file;
}

/** An NSS database trusting `rootPem`, for pdfsig. */
export function nssDbWithRoot(rootPem: string): string {
  const dir = tempDir('nss');
  const rootFile = path.join(dir, 'root.pem');
  writeFileSync(rootFile, rootPem);
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${dir}`, '-n', 'root', '-t', 'CT,C,C', '-i', rootFile]);
  return dir;
}

export interface PdfsigSignature {
  field: string;
  signatureValid: boolean;
  certificateTrusted: boolean;
  totalDocument: boolean;
  ranges: string;
  raw: string;
}

/** Runs pdfsig and parses its report per signature. */
export function pdfsig(file: string, nssDir?: string, userPassword?: string): PdfsigSignature[] {
  const args = [...(nssDir ? ['-nssdir', `sql:${nssDir}`] : []), ...(userPassword ? ['-upw', userPassword] : []), '-no-ocsp', file];
  const result = spawnSync('pdfsig', args, { encoding: 'utf8' });
  const out = `${result.stdout}${result.stderr}`;
  const blocks = out.split(/^Signature #\d+:$/m).slice(1);
  return blocks.map((block) => ({
    field: /Signature Field Name: (.*)/.exec(block)?.[1]?.trim() ?? '',
    signatureValid: /Signature Validation: Signature is Valid\./.test(block),
    certificateTrusted: /Certificate Validation: Certificate is Trusted\./.test(block),
    totalDocument: /Total document signed/.test(block) && !/Not total document signed/.test(block),
    ranges: /Signed Ranges: (.*)/.exec(block)?.[1]?.trim() ?? '',
    raw: block,
  }));
}

/** qpdf --check: returns [ok, output]. Exit code 3 means warnings only. */
export function qpdfCheck(file: string): { ok: boolean; output: string } {
  const result = spawnSync('qpdf', ['--check', file], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** The code of the PdfError that `fn` throws, or 'none' when it returns (anything else is rethrown). */
export function pdfErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof PdfError) return err.code;
    throw err;
  }
  return 'none';
}
