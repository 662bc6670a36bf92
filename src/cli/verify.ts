#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PdfError } from '../pdf/errors.js';
import { pemToDerList } from '../pki/pem.js';
import { defaultValidationPolicy, loadValidationPolicy } from '../validation/policy.js';
import { validatePdf } from '../validation/engine.js';
import type { ValidationReport } from '../validation/report.js';

function pemBundle(file: string): Buffer[] {
  const certificates = pemToDerList(readFileSync(file, 'utf8'));
  if (certificates.length === 0) throw new Error(`${file} holds no PEM certificate`);
  return certificates;
}

function printSummary(file: string, report: ValidationReport): void {
  const out: string[] = [];
  out.push(`${file}: ${report.document.summary}`);
  out.push(`  ${report.document.revisions} revision(s), ${report.document.bytes} bytes, sha256 ${report.document.sha256}`);
  report.signatures.forEach((sig, i) => {
    out.push('');
    out.push(`Signature ${i + 1}: field "${sig.fieldName}" (${sig.kind}, ${sig.subFilter ?? 'no sub-filter'})`);
    out.push(`  result:      ${sig.indication}${sig.subIndication ? ` / ${sig.subIndication}` : ''}`);
    if (sig.signer) out.push(`  signer:      ${sig.signer.subject}`);
    if (sig.seal) out.push(`  seal:        ${sig.seal.name} (${sig.seal.id})`);
    if (sig.claimedSigningTime) out.push(`  claimed at:  ${sig.claimedSigningTime}`);
    if (sig.timestampTime) out.push(`  timestamp:   ${sig.timestampTime}`);
    out.push(`  covers:      ${sig.coverage}${sig.revision !== null ? ` (revision ${sig.revision + 1})` : ''}`);
    out.push(`  integrity:   digest ${sig.integrity.messageDigestMatches ? 'matches' : 'DOES NOT MATCH'}, signature ${sig.integrity.signatureValid ? 'valid' : 'INVALID'}`);
    out.push(`  chain:       ${sig.certificatePath.status}${sig.certificatePath.trustAnchorReached ? ' (trusted anchor reached)' : ''}`);
    out.push(`  revocation:  ${sig.revocation.detail}`);
    const changes = sig.changesAfterSigning.changes;
    if (changes.length) out.push(`  later:       ${changes.length} change(s) after signing, ${sig.changesAfterSigning.permitted ? 'all permitted' : 'SOME NOT PERMITTED'}`);
    const c = sig.conditions;
    out.push('  art. 13:');
    out.push(`    (1) creation data exclusive to signer: ${c.creationDataExclusiveToSigner.status} - ${c.creationDataExclusiveToSigner.reason}`);
    out.push(`    (2) under signer's sole control:       ${c.creationDataUnderSoleControl.status} - ${c.creationDataUnderSoleControl.reason}`);
    out.push(`    (3) signature alteration detectable:   ${c.signatureAlterationDetectable.status} - ${c.signatureAlterationDetectable.reason}`);
    out.push(`    (4) document alteration detectable:    ${c.documentAlterationDetectable.status} - ${c.documentAlterationDetectable.reason}`);
    for (const p of sig.problems) out.push(`  ! ${p}`);
  });
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      trust: { type: 'string', multiple: true, default: [] },
      intermediates: { type: 'string', multiple: true, default: [] },
      at: { type: 'string' },
      'password-file': { type: 'string' },
      policy: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write('usage: verify [--json] [--trust roots.pem]... [--intermediates cas.pem]... [--at 2030-01-01T00:00:00Z] [--password-file FILE] [--policy policy.json] <file.pdf>...\n');
    return values.help ? 0 : 2;
  }
  const validationTime = values.at ? new Date(values.at) : undefined;
  if (validationTime && Number.isNaN(validationTime.getTime())) throw new Error(`--at: not a date: ${values.at}`);
  const trustAnchors = (values.trust as string[]).flatMap(pemBundle);
  const policy = values.policy ? loadValidationPolicy(values.policy as string) : defaultValidationPolicy();
  const passwordFile = values['password-file'] as string | undefined;
  const password = passwordFile ? readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '') : undefined;
  const intermediates = (values.intermediates as string[]).flatMap(pemBundle);
  let worst = 0;
  for (const file of positionals) {
    try {
      const report = await validatePdf(readFileSync(file), { trustAnchors, intermediates, validationTime, policy, ...(password ? { password } : {}) });
      if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else printSummary(file, report);
      if (report.signatures.length === 0 || report.document.passed < report.document.signatures) worst = Math.max(worst, 1);
    } catch (err) {
      if (!(err instanceof PdfError)) throw err;
      process.stderr.write(`${file}: cannot be read as a PDF: ${err.message}\n`);
      worst = 2;
    }
  }
  return worst;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`verify: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
