import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { IncrementalUpdate } from '../../src/pdf/incremental.js';
import { addSignatureField, fillByteRange, fillContents } from '../../src/pdf/signature-field.js';
import { OID } from '../../src/pki/oids.js';
import { readPkcs12 } from '../../src/pki/pfx.js';
import { validatePdf } from '../../src/validation/engine.js';
import { makePdf } from '../helpers/pdfs.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

let svc: RunningService;
const dir = tempDir('tsa');
const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;

beforeAll(async () => {
  svc = await startService();
  const pki = path.join(svc.dataDir, 'pki');
  const pass = readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim();
  const tsa = readPkcs12(readFileSync(path.join(pki, 'tsa.p12')), pass);
  writeFileSync(path.join(dir, 'tsa.crt'), pem(tsa.chainDer[0]!));
  writeFileSync(path.join(dir, 'tsa.key'), tsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(path.join(dir, 'chain.pem'), tsa.chainDer.slice(1).map(pem).join(''));
  writeFileSync(path.join(dir, 'serial'), '01\n');
  writeFileSync(
    path.join(dir, 'tsa.cnf'),
    `[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\ndir = ${dir}\nserial = $dir/serial\nsigner_cert = $dir/tsa.crt\ncerts = $dir/chain.pem\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n`,
  );
});
afterAll(async () => svc?.close());

/** An RFC 3161 token from `openssl ts` (an independent TSA) over `data`. */
function opensslTimestamp(data: Buffer): Buffer {
  const digest = createHash('sha256').update(data).digest('hex');
  execFileSync('openssl', ['ts', '-query', '-digest', digest, '-sha256', '-cert', '-out', path.join(dir, 'q.tsq')]);
  execFileSync('openssl', ['ts', '-reply', '-config', path.join(dir, 'tsa.cnf'), '-queryfile', path.join(dir, 'q.tsq'), '-token_out', '-out', path.join(dir, 'token.der')], { stdio: 'pipe' });
  return readFileSync(path.join(dir, 'token.der'));
}

/** A seal whose CMS carries a signature timestamp (what level B-T adds). */
async function sealWithTimestamp(pdf: Buffer, corruptImprint = false): Promise<Buffer> {
  const material = await svc.service.sealMaterials.material((await svc.service.seals.get('scjg-official'))!);
  const doc = PdfDocument.load(pdf);
  const update = new IncrementalUpdate(doc);
  const holes = addSignatureField(update, { subFilter: 'ETSI.CAdES.detached', contentsSize: material.cms.maxLength(6000), signingTime: new Date(), widgets: [] });
  const appended = update.write();
  fillByteRange(appended, pdf.length, holes);
  const digest = createHash('sha256').update(pdf).update(appended.subarray(0, holes.contents.offset)).update(appended.subarray(holes.contents.offset + holes.contents.length)).digest();
  const { signature, encode } = await material.cms.sign(digest);
  writeFileSync(path.join(dir, 'signature-value.bin'), signature);
  const token = opensslTimestamp(corruptImprint ? Buffer.concat([signature, Buffer.from([1])]) : signature);
  fillContents(appended, holes, encode([{ type: OID.signatureTimeStampToken, values: [token] }]));
  return Buffer.concat([pdf, appended]);
}

describe('document timestamps (ETSI.RFC3161)', () => {
  it('are verified over the byte ranges, and a changed byte is detected', async () => {
    const pdf = await makePdf(1);
    const doc = PdfDocument.load(pdf);
    const update = new IncrementalUpdate(doc);
    const holes = addSignatureField(update, { subFilter: 'ETSI.RFC3161', contentsSize: 8000, widgets: [] });
    const appended = update.write();
    fillByteRange(appended, pdf.length, holes);
    const ranges = Buffer.concat([pdf, appended.subarray(0, holes.contents.offset), appended.subarray(holes.contents.offset + holes.contents.length)]);
    fillContents(appended, holes, opensslTimestamp(ranges));
    const stamped = Buffer.concat([pdf, appended]);
    const sig = (await validatePdf(stamped, svcValidation())).signatures[0]!;
    expect(sig.kind).toBe('document-timestamp');
    expect(sig.integrity).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    expect(sig.signer?.subject).toContain('TSA');
    expect(sig.indication, JSON.stringify(sig.problems)).toBe('TOTAL_PASSED');
    const tampered = Buffer.from(stamped);
    tampered[50] = tampered[50]! ^ 1;
    const bad = (await validatePdf(tampered, svcValidation())).signatures[0]!;
    expect([bad.indication, bad.subIndication]).toEqual(['TOTAL_FAILED', 'HASH_FAILURE']);
  });
});

describe('signature timestamps', () => {
  it('are verified (openssl ts -verify agrees) and give proof of existence after the certificate expires', async () => {
    const pdf = await sealWithTimestamp(await makePdf(1));
    const tokenFile = path.join(dir, 'token.der');
    const out = execFileSync('openssl', ['ts', '-verify', '-in', tokenFile, '-token_in', '-data', path.join(dir, 'signature-value.bin'), '-CAfile', path.join(svc.dataDir, 'pki', 'root.pem'), '-untrusted', path.join(dir, 'chain.pem')], { stdio: 'pipe' }).toString();
    expect(out).toMatch(/Verification: OK/);
    const ctx = { ...svcValidation(), validationTime: new Date(Date.now() + 4 * 365 * 86_400_000) };
    const sig = (await validatePdf(pdf, ctx)).signatures[0]!;
    expect(sig.timestamps).toHaveLength(1);
    expect(sig.timestamps[0]!.valid, JSON.stringify(sig.timestamps[0]!.problems)).toBe(true);
    expect(Math.abs(new Date(sig.timestampTime!).getTime() - Date.now())).toBeLessThan(60_000);
    expect(sig.proofOfExistence).toBe(sig.timestampTime);
    expect(sig.certificatePath.status).toBe('VALID');
    expect(sig.indication, JSON.stringify(sig.problems)).toBe('TOTAL_PASSED');
  });

  it('a token over other data gives no proof of existence', async () => {
    const pdf = await sealWithTimestamp(await makePdf(1), true);
    const ctx = { ...svcValidation(), validationTime: new Date(Date.now() + 4 * 365 * 86_400_000) };
    const sig = (await validatePdf(pdf, ctx)).signatures[0]!;
    expect(sig.timestamps[0]!.valid).toBe(false);
    expect(sig.timestamps[0]!.problems.join(' ')).toMatch(/imprint/);
    expect([sig.indication, sig.subIndication]).toEqual(['INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE']);
  });
});

/** The same trust and revocation wiring the service uses for POST /v1/verify. */
const svcValidation = () => svc.service.validation;
