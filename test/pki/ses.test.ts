/**
 * GB/T 38540 (version 4) and GM/T 0031 (version 1) seals and seal signatures: made, read and
 * verified here, with keys and certificates made by OpenSSL and signatures checked by
 * `openssl pkeyutl` (Z over the default ID) in both directions; each signed field damaged in turn
 * is caught by the check that names it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Asn1Error } from '../../src/pki/asn1.js';
import { makeSesSeal, makeSesSignature, makerSignedContent, type SesSealContent } from '../../src/pki/ses/ses-build.js';
import { looksLikeSesSignature, parseSesSeal, parseSesSignature } from '../../src/pki/ses/ses-parse.js';
import type { SesLayout } from '../../src/pki/ses/ses-structures.js';
import { verifySesSeal, verifySesSignature, type SesCheckName } from '../../src/pki/ses/ses-verify.js';
import type { DigestName, Signer } from '../../src/pki/signer.js';
import { loadSm2Pkcs8Signer } from '../../src/pki/sm2/sm2-signer.js';
import { tempDir } from '../helpers/tools.js';
import { openssl } from './openssl-pki.js';

const dir = tempDir('ses');
const file = (name: string): string => path.join(dir, name);

function sm2Party(name: string): { certDer: Buffer; signer: Signer; opensslSigner: Signer } {
  openssl(['genpkey', '-algorithm', 'SM2', '-out', file(`${name}-key.pem`)]);
  openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file(`${name}-key.pem`), '-out', file(`${name}-key-enc.pem`), '-passout', 'pass:pw']);
  openssl(['req', '-new', '-x509', '-key', file(`${name}-key.pem`), '-sm3', '-sigopt', 'distid:1234567812345678', '-subj', `/CN=${name}`, '-days', '30', '-out', file(`${name}.pem`)]);
  openssl(['x509', '-in', file(`${name}.pem`), '-outform', 'DER', '-out', file(`${name}.der`)]);
  openssl(['pkey', '-in', file(`${name}-key.pem`), '-pubout', '-out', file(`${name}-pub.pem`)]);
  const opensslSigner: Signer = {
    key: { kind: 'sm2' },
    async sign(data: Buffer, digest: DigestName): Promise<Buffer> {
      expect(digest).toBe('sm3');
      writeFileSync(file(`${name}-tbs.bin`), data);
      execFileSync('openssl', ['pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-inkey', file(`${name}-key.pem`), '-pkeyopt', 'distid:1234567812345678', '-in', file(`${name}-tbs.bin`), '-out', file(`${name}-tbs.sig`)]);
      return readFileSync(file(`${name}-tbs.sig`));
    },
  };
  return { certDer: readFileSync(file(`${name}.der`)), signer: loadSm2Pkcs8Signer(readFileSync(file(`${name}-key-enc.pem`)), 'pw'), opensslSigner };
}

function opensslVerifies(name: string, data: Buffer, signature: Buffer): boolean {
  writeFileSync(file('v-data.bin'), data);
  writeFileSync(file('v-sig.der'), signature);
  try {
    return openssl(['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-pubin', '-inkey', file(`${name}-pub.pem`), '-pkeyopt', 'distid:1234567812345678', '-in', file('v-data.bin'), '-sigfile', file('v-sig.der')]).includes('Verified Successfully');
  } catch {
    return false;
  }
}

const maker = sm2Party('maker');
const holder = sm2Party('holder');
const stranger = sm2Party('stranger');
const picture = { format: 'PNG', data: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), widthMm: 42, heightMm: 42 };
const DAY = 24 * 3600 * 1000;
const now = Date.now();

function sealContent(layout: SesLayout, overrides: Partial<SesSealContent> = {}): SesSealContent {
  return {
    layout,
    vendorId: 'ESEAL-DEV',
    esId: '37050020260000001',
    type: 1,
    name: '某某市自然资源和规划局',
    certList: { kind: 'certificates', certificates: [holder.certDer] },
    createdAt: new Date(now - DAY),
    validFrom: new Date(now - DAY),
    validTo: new Date(now + 365 * DAY),
    picture,
    ...overrides,
  };
}

const makeSeal = (layout: SesLayout, overrides: Partial<SesSealContent> = {}): Promise<Buffer> => makeSesSeal(sealContent(layout, overrides), { certificate: maker.certDer, signer: maker.signer });
const document = [Buffer.from('%PDF-1.7 first range'), Buffer.from('second range %%EOF')];
const sm3 = (pieces: Buffer[]): Buffer => pieces.reduce((h, p) => h.update(p), createHash('sm3')).digest();

async function makeSignature(layout: SesLayout, sealDer: Buffer, signer = holder.signer, signerCertificate = holder.certDer): Promise<Buffer> {
  return makeSesSignature({ sealDer, layout, signedAt: new Date(now), dataHash: sm3(document), propertyInfo: 'document.pdf', signerCertificate }, signer);
}

const failed = (checks: Array<{ name: SesCheckName; passed: boolean }>): SesCheckName[] => checks.filter((c) => !c.passed).map((c) => c.name);

/** The bytes with one byte flipped inside the first occurrence of `field`. */
function damage(bytes: Buffer, field: Buffer): Buffer {
  const at = bytes.indexOf(field);
  expect(at).toBeGreaterThan(0);
  const copy = Buffer.from(bytes);
  copy[at + field.length - 1] = copy[at + field.length - 1]! ^ 0x01;
  return copy;
}

describe.each([4, 1] as const)('SES layout %i', (layout) => {
  it('makes a seal that reads back with every field, whose maker signature openssl verifies', async () => {
    const der = await makeSeal(layout);
    const seal = parseSesSeal(der);
    expect(seal.layout).toBe(layout);
    expect(seal.info).toMatchObject({ version: layout, vendorId: 'ESEAL-DEV', esId: '37050020260000001', type: 1, name: '某某市自然资源和规划局', picture });
    expect(seal.info.certList).toEqual({ kind: 'certificates', certificates: [holder.certDer] });
    expect(seal.info.validTo.getTime()).toBe(Math.floor((now + 365 * DAY) / 1000) * 1000);
    expect(seal.makerCertificate).toEqual(maker.certDer);
    expect(seal.der).toEqual(der);
    expect(opensslVerifies('maker', makerSignedContent(layout, seal.infoDer, seal.makerCertificate, seal.signatureAlgorithm), seal.signatureValue)).toBe(true);
    expect(verifySesSeal(seal, new Date()).valid).toBe(true);
  });

  it('makes a signature whose value openssl verifies, and verifies one whose value openssl made', async () => {
    const sealDer = await makeSeal(layout);
    for (const signer of [holder.signer, holder.opensslSigner]) {
      const signature = parseSesSignature(await makeSignature(layout, sealDer, signer));
      expect(signature).toMatchObject({ layout, version: layout, propertyInfo: 'document.pdf', signerCertificate: holder.certDer });
      expect(signature.signedAt?.getTime()).toBe(Math.floor(now / 1000) * 1000);
      expect(signature.seal.der).toEqual(sealDer);
      expect(opensslVerifies('holder', signature.tbsDer, signature.signatureValue)).toBe(true);
      const verification = verifySesSignature(signature, { data: document });
      expect(failed(verification.checks)).toEqual([]);
      expect(verification.valid).toBe(true);
      expect(verifySesSignature(signature, { hash: sm3(document) }).valid).toBe(true);
    }
  });

  it('names the maker signature when the seal or its signature is damaged', async () => {
    const der = await makeSeal(layout);
    const seal = parseSesSeal(der);
    expect(failed(verifySesSeal(parseSesSeal(damage(der, seal.signatureValue)), new Date()).checks)).toEqual(['seal-maker-signature']);
    const renamed = Buffer.from(der);
    const name = Buffer.from('自然资源', 'utf8');
    Buffer.from('自然灾害', 'utf8').copy(renamed, der.indexOf(name));
    expect(parseSesSeal(renamed).info.name).toBe('某某市自然灾害和规划局');
    expect(failed(verifySesSeal(parseSesSeal(renamed), new Date()).checks)).toEqual(['seal-maker-signature']);
    const otherMaker = await makeSesSeal(sealContent(layout), { certificate: maker.certDer, signer: stranger.signer });
    expect(failed(verifySesSeal(parseSesSeal(otherMaker), new Date()).checks)).toEqual(['seal-maker-signature']);
  });

  it('names the validity of a seal used outside its period, and a validity end changed after signing', async () => {
    const expired = parseSesSeal(await makeSeal(layout, { validFrom: new Date(now - 30 * DAY), validTo: new Date(now - 2 * DAY) }));
    expect(failed(verifySesSeal(expired, new Date()).checks)).toEqual(['seal-validity']);
    expect(verifySesSeal(expired, new Date(now - 10 * DAY)).valid).toBe(true);
    const notYet = parseSesSeal(await makeSeal(layout, { validFrom: new Date(now + 2 * DAY) }));
    expect(failed(verifySesSeal(notYet, new Date()).checks)).toEqual(['seal-validity']);
    // A signature made while the seal was expired fails on the seal's validity at signing time.
    const late = parseSesSignature(await makeSignature(layout, expired.der));
    expect(failed(verifySesSignature(late, { data: document }).checks)).toEqual(['seal-validity']);
  });

  it('names a signer certificate the seal does not list', async () => {
    const sealDer = await makeSeal(layout);
    const signature = parseSesSignature(await makeSignature(layout, sealDer, stranger.signer, stranger.certDer));
    expect(failed(verifySesSignature(signature, { data: document }).checks)).toEqual(['seal-certificate-listed']);
  });

  it('names the data hash when the document changed, and the signature value when a signed byte changed', async () => {
    const der = await makeSignature(layout, await makeSeal(layout));
    const signature = parseSesSignature(der);
    expect(failed(verifySesSignature(signature, { data: [document[0]!, Buffer.from('second range %%EOF ')] }).checks)).toEqual(['data-hash']);
    expect(failed(verifySesSignature(parseSesSignature(damage(der, signature.signatureValue)), { data: document }).checks)).toEqual(['signature-value']);
    expect(failed(verifySesSignature(parseSesSignature(damage(der, signature.dataHash)), { data: document }).checks)).toEqual(['signature-value', 'data-hash']);
    expect(failed(verifySesSignature(parseSesSignature(damage(der, Buffer.from('document.pdf'))), { data: document }).checks)).toEqual(['signature-value']);
  });
});

describe('SES input', () => {
  it('lists certificates by digest (GB/T 38540 certListType 2)', async () => {
    const sealDer = await makeSeal(4, { certList: { kind: 'digests', digests: [{ algorithm: 'SM3', value: createHash('sm3').update(holder.certDer).digest() }] } });
    expect(parseSesSeal(sealDer).info.certList.kind).toBe('digests');
    expect(verifySesSignature(parseSesSignature(await makeSignature(4, sealDer)), { data: document }).valid).toBe(true);
    const stranger2 = parseSesSignature(await makeSignature(4, sealDer, stranger.signer, stranger.certDer));
    expect(failed(verifySesSignature(stranger2, { data: document }).checks)).toEqual(['seal-certificate-listed']);
  });

  it('refuses malformed, truncated and oversized input with a reason, and tells SES from CMS', async () => {
    const der = await makeSignature(4, await makeSeal(4));
    for (const cut of [1, 10, 100, der.length - 1]) expect(() => parseSesSignature(der.subarray(0, cut))).toThrow(Asn1Error);
    expect(() => parseSesSeal(Buffer.from('30800000', 'hex'))).toThrow(Asn1Error);
    expect(() => parseSesSeal(Buffer.alloc(9 * 1024 * 1024, 0x30))).toThrow(/larger than/);
    const nested = Buffer.concat([Buffer.from('3080'.repeat(200), 'hex'), Buffer.alloc(400)]);
    expect(() => parseSesSignature(nested)).toThrow(/not valid BER/);
    // a seal in the signature's place, or a signature in the seal's
    const sealOnly = await makeSeal(4);
    expect(() => parseSesSignature(sealOnly)).toThrow(Asn1Error);
    expect(() => parseSesSeal(der)).toThrow(Asn1Error);
    expect(looksLikeSesSignature(der)).toBe(true);
    expect(looksLikeSesSignature(Buffer.concat([der, Buffer.alloc(100)]))).toBe(true);
    const cms = Buffer.from('3082000b06092a864886f70d010702', 'hex');
    expect(looksLikeSesSignature(cms)).toBe(false);
  });

  it('reads a header id other than ES as not a seal', async () => {
    const der = await makeSeal(4);
    const at = der.indexOf(Buffer.from([0x16, 0x02, 0x45, 0x53]));
    const changed = Buffer.from(der);
    changed[at + 3] = 0x58;
    expect(() => parseSesSeal(changed)).toThrow(/header id/);
  });
});
