/**
 * The SM2 development PKI: SM2 root, seal CA, OCSP responder and seal certificates issued by
 * the service's own code, CRLs and OCSP responses signed with SM2, each checked by openssl 3
 * (distid 1234567812345678) and by the service's own verifiers.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCrl } from '../../src/devpki/crl.js';
import { ensureDevPki, type DevPki } from '../../src/devpki/index.js';
import { DevOcspResponder } from '../../src/devpki/ocsp-responder.js';
import { readCertFields } from '../../src/pki/cert-fields.js';
import { loadPkcs12Signer } from '../../src/pki/key-object-signer.js';
import { signerMatchesCertificate } from '../../src/pki/key-match.js';
import { OID } from '../../src/pki/oids.js';
import { validatePath } from '../../src/pki/path-validate.js';
import { derToPem } from '../../src/pki/pem.js';
import { crlSignedBy, parseCrl } from '../../src/revocation/crl.js';
import { buildOcspRequest, checkOcspSigner, parseOcspResponse } from '../../src/revocation/ocsp.js';
import { tempDir } from '../helpers/tools.js';

const run = (args: string[]): { ok: boolean; output: string } => {
  try {
    return { ok: true, output: execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
};

/**
 * openssl 3.0 applies `-vfyopt distid:` only to the certificate it is asked about, not to the
 * chain above it, and `openssl crl` and `openssl ocsp` take no ID at all; so each signature is
 * also checked directly: `pkeyutl -verify` over the signed bytes with the signer certificate's key.
 */
function opensslSm2Verifies(dir: string, signed: Buffer, signature: Buffer, signerPem: string): boolean {
  const tbs = path.join(dir, 'tbs.bin');
  const sig = path.join(dir, 'tbs.sig');
  writeFileSync(tbs, signed);
  writeFileSync(sig, signature);
  return run(['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-certin', '-inkey', signerPem, '-pkeyopt', 'distid:1234567812345678', '-in', tbs, '-sigfile', sig]).output.includes('Signature Verified Successfully');
}

describe('the SM2 development PKI', () => {
  let pki: DevPki;
  let dir: string;
  const pem = (name: string, der: Buffer): string => {
    const file = path.join(dir, `${name}.pem`);
    writeFileSync(file, derToPem(der));
    return file;
  };
  const sm2Seal = () => pki.seals.find((s) => s.id === 'sm2-sample')!;

  beforeAll(async () => {
    dir = tempDir('sm2-devpki');
    pki = await ensureDevPki({
      dir: path.join(dir, 'pki'),
      baseUrl: 'http://127.0.0.1:9',
      seals: [{ id: 'sm2-sample', orgName: 'Example Bureau', uscc: '11430000006122244L', sealName: '', sealType: 'official', keyKind: 'sm2' }],
    });
  });

  it('issues the SM2 certificates with SM2-with-SM3, and openssl verifies the chain with the default ID', () => {
    const seal = sm2Seal();
    for (const der of [pki.sm2.root.certDer, pki.sm2.sealCa.certDer, pki.sm2.ocsp.certDer, seal.chainDer[0]!]) {
      expect(readCertFields(der).signatureAlgorithmOid).toBe(OID.sm2WithSm3);
    }
    expect(seal.chainDer[1]).toEqual(pki.sm2.sealCa.certDer);
    const root = pem('sm2-root', pki.sm2.root.certDer);
    const ca = pem('sm2-seal-ca', pki.sm2.sealCa.certDer);
    // link by link: the seal CA under the root, then the seal and the responder under the seal CA
    expect(run(['verify', '-vfyopt', 'distid:1234567812345678', '-CAfile', root, ca]).output).toContain(': OK');
    for (const [name, der] of [['seal', seal.chainDer[0]!], ['ocsp', pki.sm2.ocsp.certDer]] as const) {
      expect(run(['verify', '-partial_chain', '-vfyopt', 'distid:1234567812345678', '-CAfile', ca, pem(name, der)]).output).toContain(': OK');
      // with another ID the signature does not verify
      expect(run(['verify', '-partial_chain', '-vfyopt', 'distid:ALICE123@YAHOO.COM', '-CAfile', ca, pem(name, der)]).ok).toBe(false);
    }
    const signedBy: Array<[Buffer, string]> = [
      [pki.sm2.root.certDer, root],
      [pki.sm2.sealCa.certDer, root],
      [pki.sm2.ocsp.certDer, ca],
      [seal.chainDer[0]!, ca],
    ];
    for (const [der, signer] of signedBy) {
      const fields = readCertFields(der);
      expect(opensslSm2Verifies(dir, fields.tbs, fields.signatureValue, signer)).toBe(true);
    }
    expect(opensslSm2Verifies(dir, readCertFields(seal.chainDer[0]!).tbs, readCertFields(seal.chainDer[0]!).signatureValue, root)).toBe(false);
    const text = run(['x509', '-in', pem('seal', seal.chainDer[0]!), '-noout', '-text']).output;
    expect(text).toMatch(/SM2-with-SM3|sm2sign-with-sm3/);
    expect(text).toContain('http://127.0.0.1:9/pki/sm2-seal-ca.crl');
    expect(text).toContain('http://127.0.0.1:9/ocsp');
  });

  it('the seal chain validates with the service’s path validation, trusting the SM2 root', () => {
    const result = validatePath(sm2Seal().chainDer[0]!, [pki.sm2.sealCa.certDer], [pki.sm2.root.certDer], new Date());
    expect(result.problems).toEqual([]);
    expect(result.status).toBe('VALID');
    expect(validatePath(sm2Seal().chainDer[0]!, [pki.sm2.sealCa.certDer], [pki.root.certDer], new Date()).status).toBe('NO_CERTIFICATE_CHAIN_FOUND');
  });

  it('keeps the SM2 keys in PKCS#12 keystores it reads again, and the seal key signs for its certificate', async () => {
    const again = await ensureDevPki({ dir: path.join(dir, 'pki'), baseUrl: 'http://127.0.0.1:9', seals: [{ id: 'sm2-sample', orgName: 'Example Bureau', uscc: '11430000006122244L', sealName: '', sealType: 'official', keyKind: 'sm2' }] });
    expect(again.sm2.root.certDer).toEqual(pki.sm2.root.certDer);
    expect(again.seals[0]!.chainDer).toEqual(sm2Seal().chainDer);
    const { signer, chainDer } = loadPkcs12Signer(readFileSync(sm2Seal().p12Path), pki.keystorePassword);
    expect(signer.key).toEqual({ kind: 'sm2' });
    expect(chainDer[0]).toEqual(sm2Seal().chainDer[0]);
    expect(await signerMatchesCertificate(signer, chainDer[0]!)).toBe(true);
    const info = run(['pkcs12', '-in', sm2Seal().p12Path, '-passin', `pass:${pki.keystorePassword}`, '-noout', '-info']);
    expect(info.ok).toBe(true);
  });

  it('signs CRLs with SM2: openssl and the service verify them, and they list a revoked seal', () => {
    const seal = readCertFields(sm2Seal().chainDer[0]!);
    const now = new Date();
    const crl = buildCrl({ issuer: pki.sm2.sealCa, revoked: [{ serialHex: seal.serialHex, revokedAt: now, reason: 1 }], thisUpdate: now, nextUpdate: new Date(now.getTime() + 3_600_000), crlNumber: 7n });
    const parsed = parseCrl(crl);
    expect(crlSignedBy(parsed, pki.sm2.sealCa.certDer)).toBe(true);
    expect(crlSignedBy(parsed, pki.sm2.root.certDer)).toBe(false);
    const file = path.join(dir, 'sm2.crl');
    writeFileSync(file, crl);
    expect(opensslSm2Verifies(dir, parsed.tbs, parsed.signature, pem('sm2-seal-ca', pki.sm2.sealCa.certDer))).toBe(true);
    const listed = run(['crl', '-inform', 'DER', '-in', file, '-noout', '-text']);
    expect(listed.output).toMatch(/SM2-with-SM3|sm2sign-with-sm3/);
    expect(listed.output.toUpperCase()).toContain(seal.serialHex.toUpperCase());
    const damaged = Buffer.from(crl);
    damaged[damaged.length - 3] = damaged[damaged.length - 3]! ^ 1;
    expect(crlSignedBy(parseCrl(damaged), pki.sm2.sealCa.certDer)).toBe(false);
  });

  it('answers OCSP for SM2 seals with responses signed by the SM2 responder, which openssl and the service accept', async () => {
    const sealDer = sm2Seal().chainDer[0]!;
    const responder = new DevOcspResponder(pki.sm2.ocsp, [pki.sm2.sealCa.certDer], async (_issuer, serialHex) =>
      serialHex === readCertFields(sealDer).serialHex ? { status: 'revoked', revokedAt: new Date('2026-01-02T03:04:05Z'), reason: 1 } : { status: 'good' },
    );
    const request = buildOcspRequest(sealDer, pki.sm2.sealCa.certDer);
    expect(responder.answersFor(request.der)).toBe(true);
    const response = await responder.respond(request.der);
    const parsed = parseOcspResponse(response);
    expect(parsed.signatureAlgorithm).toBe(OID.sm2WithSm3);
    expect(checkOcspSigner(parsed, pki.sm2.sealCa.certDer)).toBeNull();

    const files = { request: path.join(dir, 'req.der'), response: path.join(dir, 'resp.der') };
    writeFileSync(files.request, request.der);
    writeFileSync(files.response, response);
    expect(opensslSm2Verifies(dir, parsed.tbs!, parsed.signature!, pem('sm2-ocsp', pki.sm2.ocsp.certDer))).toBe(true);
    // openssl reads the response and finds the seal's status (its signature check has no ID option, hence -noverify)
    const checked = run(['ocsp', '-respin', files.response, '-reqin', files.request, '-issuer', pem('sm2-seal-ca', pki.sm2.sealCa.certDer), '-cert', pem('seal', sealDer), '-noverify', '-resp_text']);
    expect(checked.output).toMatch(/SM2-with-SM3|sm2sign-with-sm3/);
    expect(checked.output).toMatch(/: revoked/);
  });
});
