import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { AuditLog } from '../../src/audit/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevPki, type DevPki } from '../../src/devpki/index.js';
import { issueSealCertificateFromCsr } from '../../src/devpki/issue.js';
import { PdfDocument } from '../../src/pdf/document.js';
import { findSignatures } from '../../src/pdf/signatures.js';
import { buildCertificationRequest } from '../../src/pki/csr.js';
import { decodeBer, rawOf } from '../../src/pki/asn1.js';
import { CMS_LIMITS } from '../../src/pki/cms-parse.js';
import { derToPem } from '../../src/pki/pem.js';
import { HsmError } from '../../src/pki/pkcs11/errors.js';
import { generateTokenKey, type TokenKeyType } from '../../src/pki/pkcs11/keygen.js';
import type { Pkcs11KeyRef } from '../../src/pki/pkcs11/key-ref.js';
import { finalizeModules } from '../../src/pki/pkcs11/module.js';
import { Pkcs11Signer } from '../../src/pki/pkcs11/token-signer.js';
import { sealCertificateSubject } from '../../src/seals/certificate-subject.js';
import { SealKeys } from '../../src/seals/keys.js';
import { SealMaterials } from '../../src/seals/materials.js';
import { SealRepository } from '../../src/seals/repository.js';
import { loadSealTypePolicies } from '../../src/seals/seal-type-policies.js';
import { sealDocument } from '../../src/signing/pades.js';
import { openSqlite, type Db } from '../../src/store/db.js';
import { makePdf } from '../helpers/pdfs.js';
import { nssDbWithRoot, pdfsig, qpdfCheck, tempDir } from '../helpers/tools.js';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.js';

let hsm: SoftHsm;
let pki: DevPki;
let nss: string;
let db: Db;
let seals: SealRepository;
let materials: SealMaterials;
const BASE_URL = 'http://127.0.0.1:9';

beforeAll(async () => {
  hsm = createSoftHsm();
  hsm.initToken('department', '135790');
  writeFileSync(path.join(hsm.dir, 'pin'), '135790\n', { mode: 0o600 });
  pki = await ensureDevPki({ dir: tempDir('hsm-pki'), baseUrl: BASE_URL, seals: [] });
  nss = nssDbWithRoot(derToPem(pki.root.certDer));
  db = openSqlite(':memory:');
  const keys = new SealKeys(db, tempDir('hsm-data'), 'no pkcs12 keystores in this test');
  materials = new SealMaterials(keys);
  seals = new SealRepository({ db, audit: new AuditLog(db), keys, sealTypePolicies: loadSealTypePolicies(), onRevoked: (ids) => materials.forget(ids) });
});
afterAll(async () => {
  finalizeModules();
  await db?.close();
});

const keyRef = (label: string, rsaPadding?: 'pkcs1' | 'pss'): Pkcs11KeyRef => ({
  kind: 'pkcs11',
  module: SOFTHSM_MODULE,
  token: { label: 'department' },
  key: { label },
  pin: { file: path.join(hsm.dir, 'pin') },
  ...(rsaPadding ? { rsaPadding } : {}),
});

/** Key in the token, certificate request signed there, seal certificate from the development CA. */
async function enrol(type: TokenKeyType, label: string, rsaPadding?: 'pkcs1' | 'pss'): Promise<Buffer[]> {
  const ref = keyRef(label, rsaPadding);
  const { publicKey } = await generateTokenKey(ref, { type, label });
  const csr = await buildCertificationRequest({
    subject: sealCertificateSubject({ orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract' }),
    publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }),
    signer: await Pkcs11Signer.open(ref),
  });
  const certDer = await issueSealCertificateFromCsr(csr, { baseUrl: BASE_URL, sealTypes: ['contract'] }, pki.sealCa);
  return [certDer, pki.sealCa.certDer, pki.root.certDer];
}

/** openssl cms -verify over the signed byte ranges, trusting the development root. */
function opensslVerifies(pdf: Buffer): { ok: boolean; output: string } {
  const sig = findSignatures(PdfDocument.load(pdf))[0]!;
  const [a, b, c, d] = sig.byteRange!;
  const dir = tempDir('cms');
  writeFileSync(path.join(dir, 'sig.der'), rawOf(decodeBer(sig.contents!, 'CMS', CMS_LIMITS, true)));
  writeFileSync(path.join(dir, 'content.bin'), Buffer.concat([pdf.subarray(a!, a! + b!), pdf.subarray(c!, c! + d!)]));
  writeFileSync(path.join(dir, 'root.pem'), derToPem(pki.root.certDer));
  const result = spawnSync(
    'openssl',
    ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-content', path.join(dir, 'content.bin'), '-CAfile', path.join(dir, 'root.pem'), '-purpose', 'any', '-out', '/dev/null'],
    { encoding: 'utf8' },
  );
  const printed = spawnSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path.join(dir, 'sig.der')], { encoding: 'utf8' }).stdout;
  return { ok: result.status === 0, output: `${result.stderr}\n${printed}` };
}

describe('sealing PDFs with a key in a PKCS#11 token', () => {
  const cases: Array<[TokenKeyType, 'pkcs1' | 'pss' | undefined, string]> = [
    ['rsa-2048', undefined, 'sha256WithRSAEncryption'],
    ['ec-p256', undefined, 'ecdsa-with-SHA256'],
    ['ec-p384', undefined, 'ecdsa-with-SHA256'],
    ['rsa-3072', 'pss', 'rsassaPss'],
  ];
  for (const [type, padding, algorithm] of cases) {
    it(`seals with a ${type}${padding ? ` ${padding}` : ''} token key: pdfsig, qpdf and openssl accept the signature`, async () => {
      const id = `token-${type}${padding ? `-${padding}` : ''}`;
      const chainDer = await enrol(type, id, padding);
      const record = await seals.registerPkcs11({ id, orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract', chainDer, keyRef: keyRef(id, padding) });
      expect((await seals.get(id))!.keyRef).toMatchObject({ kind: 'pkcs11', token: { label: 'department' }, key: { label: id } });
      const material = await materials.material(record);
      const input = await makePdf(2);
      const sealed = await sealDocument(PdfDocument.load(input), material, { placement: { kind: 'stamp', pageIndex: 1, centerX: 400, centerY: 600, size: 113 } });
      const pdf = Buffer.concat([sealed.original, sealed.appended]);
      const file = path.join(tempDir('sealed'), 'sealed.pdf');
      writeFileSync(file, pdf);

      const cms = opensslVerifies(pdf);
      expect(cms.ok, cms.output).toBe(true);
      expect(cms.output).toContain(algorithm);
      if (padding === 'pss') expect(cms.output).toMatch(/mgf1[\s\S]*sha256/i);
      const [sig] = pdfsig(file, nss);
      expect(sig!.signatureValid, sig!.raw).toBe(true);
      expect(sig!.certificateTrusted, sig!.raw).toBe(true);
      expect(sig!.totalDocument, sig!.raw).toBe(true);
      const check = qpdfCheck(file);
      expect(check.ok, check.output).toBe(true);
    });
  }

  it('refuses to register a token key that is not the key of the certificate', async () => {
    const chainDer = await enrol('ec-p256', 'first');
    await generateTokenKey(keyRef('second'), { type: 'ec-p256', label: 'second' });
    const err = await seals.registerPkcs11({ id: 'mismatch', orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract', chainDer, keyRef: keyRef('second') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect((err as HsmError).code).toBe('key_mismatch');
    expect(await seals.get('mismatch')).toBeUndefined();
  });
});
