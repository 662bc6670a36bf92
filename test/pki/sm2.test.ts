/**
 * SM3 and SM2 against the published examples of GB/T 32905 and GB/T 32918 (part 5's example on
 * the recommended curve), and against OpenSSL 3 in both directions: every signature made here
 * verifies with `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:...`, and
 * signatures made by OpenSSL verify here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { sm2 } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';
import { loadPkcs12Signer } from '../../src/pki/key-object-signer.js';
import { signerMatchesCertificate } from '../../src/pki/key-match.js';
import { DEFAULT_SM2_ID, sm2MessageDigest, sm2ZValue, sm3 } from '../../src/pki/sm2/sm2-digest.js';
import { sm2PointOfSpki } from '../../src/pki/sm2/sm2-keys.js';
import { createSm2Signer, loadSm2Pkcs8Signer, Sm2KeyError } from '../../src/pki/sm2/sm2-signer.js';
import { sm2PublicPointOf, sm2VerifyDigest, sm2VerifyMessage } from '../../src/pki/sm2/sm2-signature.js';
import { integer, sequence } from '../../src/pki/der.js';
import { tempDir } from '../helpers/tools.js';
import { openssl } from './openssl-pki.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('SM3 (GB/T 32905-2016, appendix A)', () => {
  it('hashes "abc"', () => {
    expect(sm3([Buffer.from('abc')])).toEqual(hex('66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0'));
  });
  it('hashes the 512-bit message "abcd" x 16, also when given in pieces', () => {
    const expected = hex('debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732');
    expect(sm3([Buffer.from('abcd'.repeat(16))])).toEqual(expected);
    expect(sm3([Buffer.from('abcd'.repeat(7)), Buffer.from('abcd'.repeat(9))])).toEqual(expected);
  });
});

describe('SM2 signature example of GB/T 32918.5 (recommended curve)', () => {
  const d = hex('3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8');
  const point = hex(
    '04 09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020 CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13',
  );
  const message = Buffer.from('message digest');
  const z = hex('B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3');
  const e = hex('F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640');
  const k = hex('59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21');
  const r = hex('F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3');
  const s = hex('B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA');
  const published = sequence(integer(r), integer(s));

  it('derives the public key, Z over the default ID and e', () => {
    expect(DEFAULT_SM2_ID.toString('latin1')).toBe('1234567812345678');
    expect(sm2PublicPointOf(d)).toEqual(point);
    expect(sm2ZValue(point)).toEqual(z);
    expect(sm2MessageDigest(z, [message])).toEqual(e);
  });

  it("makes the published (r, s) with the example's k", () => {
    const kG = sm2PublicPointOf(k);
    const x1 = BigInt(`0x${kG.subarray(1, 33).toString('hex')}`);
    const raw = sm2.doSignature(new Uint8Array(e), d.toString('hex'), { pointPool: [{ k: BigInt(`0x${k.toString('hex')}`), x1 }] });
    expect(Buffer.from(raw, 'hex')).toEqual(Buffer.concat([r, s]));
  });

  it('verifies the published signature and rejects it damaged, on another message or with another ID', () => {
    expect(sm2VerifyDigest(e, published, point)).toBe(true);
    expect(sm2VerifyMessage([message], published, point)).toBe(true);
    const flipped = Buffer.from(s);
    flipped[31] = flipped[31]! ^ 1;
    expect(sm2VerifyDigest(e, sequence(integer(r), integer(flipped)), point)).toBe(false);
    expect(sm2VerifyMessage([Buffer.from('message digesT')], published, point)).toBe(false);
    expect(sm2VerifyMessage([message], published, point, Buffer.from('ALICE123@YAHOO.COM'))).toBe(false);
    // r or s out of [1, n-1], and trailing bytes, are refused before any arithmetic
    expect(sm2VerifyDigest(e, sequence(integer(0), integer(s)), point)).toBe(false);
    expect(sm2VerifyDigest(e, Buffer.concat([published, Buffer.from([0])]), point)).toBe(false);
  });

  it('signs so that the signature verifies, with a fresh k each time', async () => {
    const signer = createSm2Signer(d);
    expect(signer.key).toEqual({ kind: 'sm2' });
    const a = await signer.sign(message, 'sm3');
    const b = await signer.sign(message, 'sm3');
    expect(a.equals(b)).toBe(false);
    expect(sm2VerifyDigest(e, a, point) && sm2VerifyDigest(e, b, point)).toBe(true);
    await expect(signer.sign(message, 'sha256')).rejects.toThrow(/SM3/);
  });

  it('keeps the private key out of sight', () => {
    const signer = createSm2Signer(d);
    const shown = `${inspect(signer, { depth: 5, showHidden: true })}${JSON.stringify(signer)}`;
    expect(shown).not.toContain(d.toString('hex'));
    expect(Object.isFrozen(signer)).toBe(true);
  });

  it('refuses scalars outside [1, n-2]', () => {
    expect(() => createSm2Signer(Buffer.alloc(32))).toThrow(/not a valid SM2 private key/);
    expect(() => createSm2Signer(hex('FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122'))).toThrow();
  });
});

describe('SM2 with OpenSSL 3', () => {
  const dir = tempDir('sm2-openssl');
  const file = (name: string): string => path.join(dir, name);
  openssl(['genpkey', '-algorithm', 'SM2', '-out', file('key.pem')]);
  openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('key.pem'), '-out', file('key-enc.pem'), '-passout', 'pass:key secret']);
  openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('key.pem'), '-outform', 'DER', '-out', file('key-enc.der'), '-passout', 'pass:key secret']);
  openssl(['pkey', '-in', file('key.pem'), '-pubout', '-out', file('pub.pem')]);
  openssl(['req', '-new', '-x509', '-key', file('key.pem'), '-sm3', '-sigopt', 'distid:1234567812345678', '-subj', '/CN=SM2 seal', '-days', '2', '-out', file('cert.pem')]);
  openssl(['pkcs12', '-export', '-inkey', file('key.pem'), '-in', file('cert.pem'), '-passout', 'pass:p12 secret', '-out', file('seal.p12')]);
  openssl(['pkey', '-pubin', '-in', file('pub.pem'), '-outform', 'DER', '-out', file('pub.der')]);
  const publicPoint = sm2PointOfSpki(readFileSync(file('pub.der')));

  const opensslVerifies = (data: Buffer, signature: Buffer): boolean => {
    writeFileSync(file('data.bin'), data);
    writeFileSync(file('sig.der'), signature);
    try {
      const out = openssl(['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-pubin', '-inkey', file('pub.pem'), '-pkeyopt', 'distid:1234567812345678', '-in', file('data.bin'), '-sigfile', file('sig.der')]);
      return out.includes('Signature Verified Successfully');
    } catch {
      return false;
    }
  };

  it('reads the SM2 key of an encrypted PKCS#8 file, PEM and DER, and its signatures verify with openssl', async () => {
    for (const name of ['key-enc.pem', 'key-enc.der']) {
      const signer = loadSm2Pkcs8Signer(readFileSync(file(name)), 'key secret');
      expect(signer.publicPoint).toEqual(publicPoint);
      for (const data of [Buffer.from('abc'), Buffer.alloc(0), Buffer.alloc(10_000, 0x5a)]) {
        const signature = await signer.sign(data, 'sm3');
        expect(opensslVerifies(data, signature)).toBe(true);
        const damaged = Buffer.concat([data, Buffer.from([1])]);
        expect(opensslVerifies(damaged, signature)).toBe(false);
      }
    }
  });

  it('refuses a wrong password and a key that is not SM2', () => {
    expect(() => loadSm2Pkcs8Signer(readFileSync(file('key-enc.pem')), 'wrong')).toThrow(Sm2KeyError);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('p256.pem')]);
    openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('p256.pem'), '-out', file('p256-enc.pem'), '-passout', 'pass:x']);
    expect(() => loadSm2Pkcs8Signer(readFileSync(file('p256-enc.pem')), 'x')).toThrow(/not hold an SM2 key/);
  });

  it('reads a PKCS#12 file with an SM2 key as openssl 3 writes it, and the key matches its certificate', async () => {
    const { signer, chainDer } = loadPkcs12Signer(readFileSync(file('seal.p12')), 'p12 secret');
    expect(signer.key).toEqual({ kind: 'sm2' });
    expect(chainDer).toHaveLength(1);
    expect(await signerMatchesCertificate(signer, chainDer[0]!)).toBe(true);
    const data = Buffer.from('signed attributes stand-in');
    expect(opensslVerifies(data, await signer.sign(data, 'sm3'))).toBe(true);
  });

  it('verifies signatures openssl makes, and only over the data and ID they were made for', () => {
    for (const data of [Buffer.from('abc'), Buffer.alloc(5_000, 7)]) {
      writeFileSync(file('in.bin'), data);
      openssl(['pkeyutl', '-sign', '-rawin', '-digest', 'sm3', '-inkey', file('key.pem'), '-pkeyopt', 'distid:1234567812345678', '-in', file('in.bin'), '-out', file('openssl-sig.der')]);
      const signature = readFileSync(file('openssl-sig.der'));
      expect(sm2VerifyMessage([data], signature, publicPoint!)).toBe(true);
      expect(sm2VerifyMessage([data, Buffer.from([0])], signature, publicPoint!)).toBe(false);
      expect(sm2VerifyMessage([data], signature, publicPoint!, Buffer.from('another id'))).toBe(false);
    }
  });
});
