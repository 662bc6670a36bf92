/**
 * Sealing with a national e-seal (GB/T 38540): the sample SM2 seal of the embedded default is
 * registered with an SESeal made by the development seal maker; `format=ses` writes an
 * SES_Signature into /Contents. The signature value is checked by `openssl pkeyutl` with the
 * default SM2 ID, the data hash against the byte ranges with `openssl dgst -sm3`, the file by
 * qpdf and pdfsig (which keeps an earlier RSA seal valid), and the service verifies it
 * TOTAL_PASSED, names each damaged part, and serves the seal's properties.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sm2SignerOf } from '../../src/devpki/issuer-signature.js';
import { OID } from '../../src/pki/oids.js';
import { derToPem } from '../../src/pki/pem.js';
import { parseSignedData } from '../../src/pki/signed-data.js';
import { readPkcs12 } from '../../src/pki/pfx.js';
import { makeSesSeal, makeSesSignature } from '../../src/pki/ses/ses-build.js';
import { parseSesSignature } from '../../src/pki/ses/ses-parse.js';
import type { DigestName, Signer } from '../../src/pki/signer.js';
import { signWithCustomRanges } from '../validation/fixtures.js';
import type { ValidationReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, sealRequest, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, qpdfCheck, tempDir, writeTemp } from '../helpers/tools.js';

const SM2_SEAL = 'zrzy-official';

/** The /Contents of the last signature and the bytes its ByteRange covers. */
function lastContents(pdf: Buffer): { contents: Buffer; signed: Buffer } {
  const text = pdf.toString('latin1');
  const matches = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  const [, a, b, c, d] = matches[matches.length - 1]!.map(Number) as [number, number, number, number, number];
  return { contents: Buffer.from(text.slice(a + b + 1, c - 1), 'hex'), signed: Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]) };
}

async function verify(svc: RunningService, pdf: Buffer): Promise<ValidationReport> {
  const res = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(pdf) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as ValidationReport;
}

describe('sealing with a national e-seal (format=ses)', () => {
  let svc: RunningService;
  const dir = tempDir('seal-ses');
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => svc?.close());

  it('writes an SES_Signature that openssl checks: SM2 value with the default ID, SM3 data hash of the byte ranges', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL, format: 'ses' });
    expect(sealed.toString('latin1')).toContain('/SubFilter /GB.T38540.SES_Signature');
    const { contents, signed } = lastContents(sealed);
    const ses = parseSesSignature(contents, true);
    expect(ses).toMatchObject({ layout: 4, version: 4 });
    expect(ses.seal.info.name).toBe('某某市自然资源和规划局');
    expect(ses.propertyInfo).toMatch(/^application\/pdf; ByteRange \d+ \d+ \d+ \d+; SM3$/);

    const files = { signed: path.join(dir, 'signed.bin'), tbs: path.join(dir, 'tbs.der'), sig: path.join(dir, 'sig.der'), cert: path.join(dir, 'signer.pem'), pub: path.join(dir, 'signer-pub.pem') };
    writeFileSync(files.signed, signed);
    writeFileSync(files.tbs, ses.tbsDer);
    writeFileSync(files.sig, ses.signatureValue);
    writeFileSync(files.cert, derToPem(ses.signerCertificate));
    execFileSync('openssl', ['x509', '-in', files.cert, '-pubkey', '-noout', '-out', files.pub]);
    const sm3 = execFileSync('openssl', ['dgst', '-sm3', '-r', files.signed], { encoding: 'utf8' }).split(' ')[0];
    expect(ses.dataHash.toString('hex')).toBe(sm3);
    const verified = spawnSync('openssl', ['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-pubin', '-inkey', files.pub, '-pkeyopt', 'distid:1234567812345678', '-in', files.tbs, '-sigfile', files.sig], { encoding: 'utf8' });
    expect(verified.stdout).toContain('Signature Verified Successfully');
    expect(qpdfCheck(writeTemp('ses.pdf', sealed)).ok).toBe(true);

    const sig = (await verify(svc, sealed)).signatures[0]!;
    expect(sig.problems).toEqual([]);
    expect(sig).toMatchObject({
      subFilter: 'GB.T38540.SES_Signature',
      indication: 'TOTAL_PASSED',
      algorithms: { digest: 'sm3', signature: 'SM2 with sm3' },
      integrity: { messageDigestMatches: true, signatureValid: true },
      seal: { id: SM2_SEAL },
      nationalSeal: { standard: 'GB/T 38540-2020', name: '某某市自然资源和规划局', makerTrusted: true, valid: true },
    });
    expect(sig.nationalSeal!.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['seal-maker-signature', 'seal-validity', 'seal-certificate-listed', 'signature-value', 'data-hash']));
    expect(Object.values(sig.conditions).every((c) => c.status === 'met')).toBe(true);
  });

  it('after an RSA seal: both pass here, and pdfsig still parses the file and keeps the RSA seal valid', async () => {
    const rsa = await sealOk(svc, await makePdf(1), { sealId: 'scjg-official' });
    const both = await sealOk(svc, rsa, { sealId: SM2_SEAL, format: 'ses' });
    expect((await verify(svc, both)).signatures.map((s) => s.indication)).toEqual(['TOTAL_PASSED', 'TOTAL_PASSED']);
    const listed = pdfsig(writeTemp('rsa-then-ses.pdf', both), nssDbWithRoot(svc.rootPem));
    expect(listed).toHaveLength(2);
    expect(listed[0]!.signatureValid).toBe(true);
    expect(listed[0]!.certificateTrusted).toBe(true);
    expect(listed[1]!.signatureValid).toBe(false); // poppler does not know GB/T 38540
  });

  it('at B-T the SES_Signature carries a time stamp over its value; B-LTA extension keeps it TOTAL_PASSED', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL, format: 'ses', level: 'B-LTA' });
    const sig = (await verify(svc, sealed)).signatures.find((s) => s.kind === 'signature')!;
    expect(sig.problems).toEqual([]);
    expect(sig.indication).toBe('TOTAL_PASSED');
    expect(sig.timestamps).toHaveLength(1);
    expect(sig.timestamps[0]!.valid).toBe(true);
    expect(sig.nationalSeal!.checks.find((c) => c.name === 'time-stamp')?.passed).toBe(true);
    expect(sig.revocation).toMatchObject({ checked: true, status: 'good' });
    expect(sig.nationalSeal!.makerRevocation).toMatchObject({ checked: true, status: 'good' });
  });

  it('names what was damaged: a changed page, a changed signature value, a seal the maker did not sign', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL, format: 'ses' });
    const page = Buffer.from(sealed);
    page[sealed.indexOf('/MediaBox') + 1] = 'm'.charCodeAt(0);
    const pageSig = (await verify(svc, page)).signatures[0]!;
    expect([pageSig.indication, pageSig.subIndication]).toEqual(['TOTAL_FAILED', 'HASH_FAILURE']);
    expect(pageSig.nationalSeal!.checks.find((c) => c.name === 'data-hash')?.passed).toBe(false);

    const text = sealed.toString('latin1');
    const { contents } = lastContents(sealed);
    const ses = parseSesSignature(contents, true);
    const flipHexOf = (field: Buffer): Buffer => {
      const hex = field.toString('hex').toUpperCase();
      const at = text.toUpperCase().indexOf(hex);
      expect(at).toBeGreaterThan(0);
      const copy = Buffer.from(sealed);
      const last = at + hex.length - 1;
      copy[last] = (copy[last] === '0'.charCodeAt(0) ? '1' : '0').charCodeAt(0);
      return copy;
    };
    const valueSig = (await verify(svc, flipHexOf(ses.signatureValue))).signatures[0]!;
    expect([valueSig.indication, valueSig.subIndication]).toEqual(['TOTAL_FAILED', 'SIG_CRYPTO_FAILURE']);
    expect(valueSig.nationalSeal!.checks.find((c) => c.name === 'signature-value')?.passed).toBe(false);

    // the seal's own maker signature damaged: the signer's value breaks too (the seal is signed in TBS_Sign)
    const makerSig = (await verify(svc, flipHexOf(ses.seal.signatureValue))).signatures[0]!;
    expect(makerSig.indication).toBe('TOTAL_FAILED');
    expect(makerSig.nationalSeal!.checks.filter((c) => !c.passed).map((c) => c.name).sort()).toEqual(['seal-maker-signature', 'signature-value']);
  });

  it('verifies a GM/T 0031 seal signature that another product put under adbe.pkcs7.detached, signed by openssl', async () => {
    const pki = svc.service.devPki!;
    const sample = pki.seals.find((s) => s.id === SM2_SEAL)!;
    const { privateKey, chainDer } = readPkcs12(readFileSync(sample.p12Path), pki.keystorePassword);
    const keyFile = path.join(dir, 'foreign-key.pem');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const opensslSigner: Signer = {
      key: { kind: 'sm2' },
      async sign(data: Buffer, digest: DigestName): Promise<Buffer> {
        expect(digest).toBe('sm3');
        writeFileSync(path.join(dir, 'foreign-tbs.bin'), data);
        execFileSync('openssl', ['pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-inkey', keyFile, '-pkeyopt', 'distid:1234567812345678', '-in', path.join(dir, 'foreign-tbs.bin'), '-out', path.join(dir, 'foreign-tbs.sig')]);
        return readFileSync(path.join(dir, 'foreign-tbs.sig'));
      },
    };
    const now = Date.now();
    const sealDer = await makeSesSeal(
      {
        layout: 1,
        vendorId: 'OTHER',
        esId: 'GMT0031-0001',
        type: 1,
        name: '某某市自然资源和规划局',
        certList: { kind: 'certificates', certificates: [chainDer[0]!] },
        createdAt: new Date(now - 86_400_000),
        validFrom: new Date(now - 86_400_000),
        validTo: new Date(now + 86_400_000 * 30),
        picture: { format: 'PNG', data: (await svc.service.seals.get(SM2_SEAL))!.imagePng, widthMm: 42, heightMm: 42 },
      },
      { certificate: pki.sm2.maker.certDer, signer: sm2SignerOf(pki.sm2.maker.privateKey)! },
    );
    const foreign = await signWithCustomRanges(await makePdf(1), 120_000, 'adbe.pkcs7.detached', async (signed) => {
      const dataHash = execFileSync('openssl', ['dgst', '-sm3', '-binary'], { input: signed });
      return makeSesSignature({ sealDer, layout: 1, signedAt: new Date(), dataHash, propertyInfo: 'foreign.pdf', signerCertificate: chainDer[0]! }, opensslSigner);
    });
    const sig = (await verify(svc, foreign)).signatures[0]!;
    expect(sig.problems).toEqual([]);
    expect(sig).toMatchObject({ subFilter: 'adbe.pkcs7.detached', indication: 'TOTAL_PASSED', nationalSeal: { standard: 'GM/T 0031-2014', esId: 'GMT0031-0001', valid: true } });
  });

  it('refuses format=ses for a seal without a national e-seal, and shows the national seal of one that has it', async () => {
    const res = await sealRequest(svc, await makePdf(1), { sealId: 'scjg-official', format: 'ses' });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { type: string }).type).toMatch(/seal-not-national$/);
    const seal = await fetch(`${svc.url}/v1/seals/${SM2_SEAL}`, { headers: { authorization: `Bearer ${svc.token}` } });
    expect(seal.status).toBe(200);
    const body = (await seal.json()) as { nationalSeal: Record<string, unknown> };
    expect(body.nationalSeal).toMatchObject({ standard: 'GB/T 38540-2020', name: '某某市自然资源和规划局', type: 1, vendorId: 'ESEAL-DEV', picture: { format: 'PNG', widthMm: 42, heightMm: 42 } });
    expect(String(body.nationalSeal.maker)).toContain('E-Seal Development Seal Maker');
    const rsa = (await (await fetch(`${svc.url}/v1/seals/scjg-official`, { headers: { authorization: `Bearer ${svc.token}` } })).json()) as { nationalSeal: unknown };
    expect(rsa.nationalSeal).toBeNull();
  });
});

describe('an SM2 time-stamping authority (DEV_TSA_KEY=sm2)', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ DEV_TSA_KEY: 'sm2' });
  });
  afterAll(async () => svc?.close());

  it('time-stamps SM2 seals (CMS and SES) with tokens signed SM2 with SM3, which verify TOTAL_PASSED', async () => {
    for (const format of ['cms', 'ses']) {
      const sealed = await sealOk(svc, await makePdf(1), { sealId: SM2_SEAL, format, level: 'B-T' });
      const sig = (await verify(svc, sealed)).signatures[0]!;
      expect(sig.problems, format).toEqual([]);
      expect(sig.indication, format).toBe('TOTAL_PASSED');
      expect(sig.timestamps, format).toHaveLength(1);
      expect(sig.timestamps[0]).toMatchObject({ valid: true, tsa: expect.stringContaining('E-Seal Development SM2 TSA') });
      const token = format === 'ses' ? parseSesSignature(lastContents(sealed).contents, true).timeStamp! : parseSignedData(lastContents(sealed).contents).signers[0]!.unsignedAttrs.get(OID.signatureTimeStampToken)![0]!.raw;
      const tsaSigner = parseSignedData(token).signers[0]!;
      expect(tsaSigner.signatureAlgorithm.oid, format).toBe(OID.sm2WithSm3);
      expect(tsaSigner.digestAlgorithmOid, format).toBe(OID.sm3);
    }
  });
});
