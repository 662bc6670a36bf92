import { execFileSync, spawnSync } from 'node:child_process';
import { verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCertificationRequest } from '../../src/pki/csr.js';
import { pemBlock } from '../../src/pki/pem.js';
import { oid } from '../../src/pki/der.js';
import { OID } from '../../src/pki/oids.js';
import { P11 } from '../../src/pki/pkcs11/binding.js';
import { HsmError } from '../../src/pki/pkcs11/errors.js';
import { generateTokenKey, tokenPublicKey, type TokenKeyType } from '../../src/pki/pkcs11/keygen.js';
import type { Pkcs11KeyRef } from '../../src/pki/pkcs11/key-ref.js';
import { finalizeModules, RESCAN_INTERVAL_MS } from '../../src/pki/pkcs11/module.js';
import { findObject } from '../../src/pki/pkcs11/objects.js';
import { sessionPool } from '../../src/pki/pkcs11/session-pool.js';
import { Pkcs11Signer } from '../../src/pki/pkcs11/token-signer.js';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.js';

let hsm: SoftHsm;
let serials: Record<string, string>;
const PIN = '246810';

beforeAll(() => {
  hsm = createSoftHsm();
  serials = { keys: hsm.initToken('keys', PIN), locked: hsm.initToken('locked', PIN), spare: hsm.initToken('spare', PIN) };
  process.env.TEST_HSM_PIN = PIN;
});
afterAll(() => finalizeModules());

const target = (label: string) => ({ module: SOFTHSM_MODULE, token: { label }, pin: { env: 'TEST_HSM_PIN' } });
const ref = (label: string, keyLabel: string, extra: Partial<Pkcs11KeyRef> = {}): Pkcs11KeyRef => ({ kind: 'pkcs11', ...target(label), key: { label: keyLabel }, ...extra });

async function rejection(promise: Promise<unknown>): Promise<HsmError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HsmError);
  return err as HsmError;
}

describe('seal keys in a PKCS#11 token', () => {
  const types: Array<[TokenKeyType, number]> = [
    ['rsa-2048', P11.CKA_PRIVATE_EXPONENT],
    ['rsa-3072', P11.CKA_PRIVATE_EXPONENT],
    ['ec-p256', P11.CKA_VALUE],
    ['ec-p384', P11.CKA_VALUE],
  ];
  for (const [type, secretAttribute] of types) {
    it(`generates a ${type} key inside the token that cannot be extracted, and signs with it`, async () => {
      const { id, publicKey } = await generateTokenKey(target('keys'), { type, label: `seal-${type}` });
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      const flags = await sessionPool(target('keys')).use('reading attributes', (ctx) => {
        const handle = findObject(ctx, P11.CKO_PRIVATE_KEY, { label: `seal-${type}`, id }, '"keys"');
        const attrs = [P11.CKA_EXTRACTABLE, P11.CKA_SENSITIVE, P11.CKA_NEVER_EXTRACTABLE, P11.CKA_ALWAYS_SENSITIVE, P11.CKA_LOCAL, P11.CKA_TOKEN];
        const values = ctx.lib.C_GetAttributeValue(ctx.session, handle, attrs.map((t) => ({ type: t }))).map((a) => (a.value as Buffer)[0]);
        let secretError: unknown;
        try {
          ctx.lib.C_GetAttributeValue(ctx.session, handle, [{ type: secretAttribute }]);
        } catch (err) {
          secretError = err;
        }
        return { values, secretError };
      });
      expect(flags.values).toEqual([0, 1, 1, 1, 1, 1]); // not extractable; sensitive, always was; made in the token; a token object
      expect(flags.secretError).toBeInstanceOf(P11.Pkcs11Error);
      expect((flags.secretError as Error).message).toBe('CKR_ATTRIBUTE_SENSITIVE');

      const signer = await Pkcs11Signer.open(ref('keys', `seal-${type}`));
      expect(signer.key.kind).toBe(type.startsWith('rsa') ? 'rsa' : 'ec');
      const data = Buffer.from('signed attributes');
      for (const digest of ['sha256', 'sha384'] as const) {
        const signature = await signer.sign(data, digest);
        expect(verify(digest, data, publicKey, signature)).toBe(true);
      }
      expect((await tokenPublicKey(target('keys'), { id })).export({ format: 'der', type: 'spki' })).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
    });
  }

  it('refuses to generate a second key with a label in use', async () => {
    await generateTokenKey(target('keys'), { type: 'ec-p256', label: 'twice' });
    const err = await rejection(generateTokenKey(target('keys'), { type: 'ec-p256', label: 'twice' }));
    expect(err.code).toBe('key_exists');
  });

  it('finds a token by serial number and a key by id', async () => {
    const { id, publicKey } = await generateTokenKey(target('keys'), { type: 'ec-p256', label: 'by-serial', id: 'c0ffee01' });
    expect(id).toBe('c0ffee01');
    const signer = await Pkcs11Signer.open({ ...ref('keys', 'unused'), token: { serial: serials.keys! }, key: { id } });
    const data = Buffer.from('by serial');
    expect(verify('sha256', data, publicKey, await signer.sign(data, 'sha256'))).toBe(true);
  });

  it('signs RSA-PSS through CKM_RSA_PKCS_PSS', async () => {
    const { publicKey } = await generateTokenKey(target('keys'), { type: 'rsa-2048', label: 'pss' });
    const signer = await Pkcs11Signer.open(ref('keys', 'pss', { rsaPadding: 'pss' }));
    const data = Buffer.from('pss data');
    const signature = await signer.sign(data, 'sha256');
    expect(verify('sha256', data, { key: publicKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, signature)).toBe(true);
    expect(verify('sha256', data, publicKey, signature)).toBe(false);
  });

  it('makes certificate requests that openssl verifies, signed in the token', async () => {
    const dir = hsm.dir;
    for (const [type, padding] of [['ec-p256', undefined], ['rsa-2048', 'pss']] as const) {
      const label = `csr-${type}-${padding ?? 'default'}`;
      const { publicKey } = await generateTokenKey(target('keys'), { type, label });
      const signer = await Pkcs11Signer.open(ref('keys', label, padding ? { rsaPadding: padding } : {}));
      const der = await buildCertificationRequest({
        subject: [['C', 'CN'], ['O', '某某市财政局'], ['organizationIdentifier', '11370500MB0100003P'], ['CN', '某某市财政局合同专用章']],
        publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }),
        signer,
      });
      const file = path.join(dir, `${label}.csr`);
      writeFileSync(file, pemBlock('CERTIFICATE REQUEST', der));
      const verified = spawnSync('openssl', ['req', '-in', file, '-verify', '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus'], { encoding: 'utf8' });
      // openssl req -verify exits 0 either way; it says which on stderr.
      expect(verified.stderr).toContain('self-signature verify OK');
      const out = verified.stdout;
      expect(out).toContain('某某市财政局合同专用章');
      expect(out).toMatch(/C=CN/);
      const text = execFileSync('openssl', ['req', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
      expect(text).toContain(padding === 'pss' ? 'rsassaPss' : 'ecdsa-with-SHA256');
      // a changed request no longer verifies
      der[der.length - 3]! ^= 0xff;
      writeFileSync(file, pemBlock('CERTIFICATE REQUEST', der));
      expect(spawnSync('openssl', ['req', '-in', file, '-verify', '-noout'], { encoding: 'utf8' }).stderr).toContain('self-signature verify failure');
    }
  });

  it('says clearly when the PIN is wrong, the token or the key is missing, or the PIN is not configured', async () => {
    const wrongPin = path.join(hsm.dir, 'wrong-pin');
    writeFileSync(wrongPin, '000000\n');
    const wrong = await rejection(Pkcs11Signer.open({ ...ref('locked', 'any'), pin: { file: wrongPin } }));
    expect(wrong.code).toBe('pin_incorrect');
    expect(wrong.message).toMatch(/token "locked" refused the PIN \(CKR_PIN_INCORRECT\)/);

    const missing = await rejection(Pkcs11Signer.open(ref('no-such-token', 'any')));
    expect(missing.code).toBe('token_missing');
    expect(missing.message).toMatch(/token "no-such-token" is not present/);

    const noKey = await rejection(Pkcs11Signer.open(ref('spare', 'no-such-key')));
    expect(noKey.code).toBe('key_missing');
    expect(noKey.message).toMatch(/token "spare" has no private key labelled "no-such-key"/);

    const noPin = await rejection(Pkcs11Signer.open({ ...ref('spare', 'any'), pin: { env: 'TEST_HSM_PIN_UNSET' } }));
    expect(noPin.code).toBe('pin_unavailable');

    const noModule = await rejection(Pkcs11Signer.open({ ...ref('spare', 'any'), module: path.join(hsm.dir, 'missing.so') }));
    expect(noModule.code).toBe('module_missing');

    // The token stays logged in for the whole process; a wrong PIN is still refused afterwards.
    await generateTokenKey(target('spare'), { type: 'ec-p256', label: 'shared-login' });
    const right = await Pkcs11Signer.open(ref('spare', 'shared-login'));
    expect(await right.sign(Buffer.from('logged in'), 'sha256')).toBeInstanceOf(Buffer);
    const afterLogin = await rejection(Pkcs11Signer.open({ ...ref('spare', 'shared-login'), pin: { file: wrongPin } }));
    expect(afterLogin.code).toBe('pin_incorrect');
    expect(afterLogin.message).toMatch(/logged in with another PIN/);
  });

  it('reports a token that goes away, and signs again once it is back', async () => {
    await generateTokenKey(target('spare'), { type: 'ec-p256', label: 'roaming' });
    const signer = await Pkcs11Signer.open(ref('spare', 'roaming'));
    const data = Buffer.from('before');
    expect(await signer.sign(data, 'sha256')).toBeInstanceOf(Buffer);

    const plugBack = hsm.unplug(serials.spare!);
    const gone = await rejection(signer.sign(data, 'sha256'));
    expect(gone.code).toBe('token_missing');
    const stillGone = await rejection(signer.sign(data, 'sha256'));
    expect(stillGone.code).toBe('token_missing');

    plugBack();
    await new Promise((resolve) => setTimeout(resolve, RESCAN_INTERVAL_MS + 50)); // the module looks for tokens again
    const signature = await signer.sign(data, 'sha256');
    const publicKey = await tokenPublicKey(target('spare'), { label: 'roaming' });
    expect(verify('sha256', data, publicKey, signature)).toBe(true);
    // the other tokens of the module recovered too
    expect(await (await Pkcs11Signer.open(ref('keys', 'twice'))).sign(data, 'sha256')).toBeInstanceOf(Buffer);
  });

  it('serves concurrent signatures from a bounded pool of sessions', async () => {
    const { publicKey } = await generateTokenKey(target('keys'), { type: 'ec-p256', label: 'busy' });
    const signer = await Pkcs11Signer.open(ref('keys', 'busy'));
    const inputs = Array.from({ length: 24 }, (_, i) => Buffer.from(`document ${i}`));
    const signatures = await Promise.all(inputs.map((d) => signer.sign(d, 'sha256')));
    signatures.forEach((s, i) => expect(verify('sha256', inputs[i]!, publicKey, s)).toBe(true));
    const pool = sessionPool(target('keys'));
    expect(pool.openSessions).toBeGreaterThan(1);
    expect(pool.openSessions).toBeLessThanOrEqual(4);
  });

  it('refuses an SM2-curve key in a token, which it could only sign as ECDSA (not an SM2 signature)', async () => {
    await sessionPool(target('spare'), { size: 1, readWrite: true }).use('generating an SM2-curve key', (ctx) => {
      const common = [{ type: P11.CKA_TOKEN, value: true }, { type: P11.CKA_LABEL, value: 'sm2-curve' }];
      ctx.lib.C_GenerateKeyPair(
        ctx.session,
        { mechanism: P11.CKM_EC_KEY_PAIR_GEN },
        [...common, { type: P11.CKA_EC_PARAMS, value: oid(OID.sm2) }, { type: P11.CKA_VERIFY, value: true }],
        [...common, { type: P11.CKA_PRIVATE, value: true }, { type: P11.CKA_SENSITIVE, value: true }, { type: P11.CKA_SIGN, value: true }],
      );
    });
    const err = await rejection(Pkcs11Signer.open(ref('spare', 'sm2-curve')));
    expect(err.code).toBe('key_missing');
    expect(err.message).toMatch(/SM2 keys in PKCS#11 tokens are not supported/);
  });
});
