import { randomBytes, type KeyObject } from 'node:crypto';
import { oid } from '../der.js';
import { P11, type Template } from './binding.js';
import { HsmError } from './errors.js';
import { describeKey, type KeySelector, type PinSource, type TokenSelector } from './key-ref.js';
import { CURVE_OIDS, findObject, findObjects, publicKey } from './objects.js';
import { sessionPool } from './session-pool.js';

export const KEY_TYPES = ['rsa-2048', 'rsa-3072', 'ec-p256', 'ec-p384'] as const;
export type TokenKeyType = (typeof KEY_TYPES)[number];

export interface TokenTarget {
  module: string;
  token: TokenSelector;
  pin: PinSource;
}

function templates(type: TokenKeyType, label: string, id: Buffer): { mechanism: number; publicTemplate: Template; privateTemplate: Template } {
  const common: Template = [
    { type: P11.CKA_TOKEN, value: true },
    { type: P11.CKA_LABEL, value: label },
    { type: P11.CKA_ID, value: id },
  ];
  // The private key is made inside the token, can only sign, and can never be read or wrapped out.
  const privateTemplate: Template = [
    ...common,
    { type: P11.CKA_PRIVATE, value: true },
    { type: P11.CKA_SENSITIVE, value: true },
    { type: P11.CKA_EXTRACTABLE, value: false },
    { type: P11.CKA_SIGN, value: true },
    { type: P11.CKA_DECRYPT, value: false },
    { type: P11.CKA_UNWRAP, value: false },
    { type: P11.CKA_DERIVE, value: false },
  ];
  const publicCommon: Template = [...common, { type: P11.CKA_PRIVATE, value: false }, { type: P11.CKA_VERIFY, value: true }, { type: P11.CKA_ENCRYPT, value: false }, { type: P11.CKA_WRAP, value: false }];
  if (type === 'rsa-2048' || type === 'rsa-3072') {
    return {
      mechanism: P11.CKM_RSA_PKCS_KEY_PAIR_GEN,
      publicTemplate: [...publicCommon, { type: P11.CKA_MODULUS_BITS, value: type === 'rsa-2048' ? 2048 : 3072 }, { type: P11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }],
      privateTemplate,
    };
  }
  const curve = type === 'ec-p256' ? CURVE_OIDS['P-256'] : CURVE_OIDS['P-384'];
  return { mechanism: P11.CKM_EC_KEY_PAIR_GEN, publicTemplate: [...publicCommon, { type: P11.CKA_EC_PARAMS, value: oid(curve) }], privateTemplate };
}

/**
 * Generates a seal key pair inside the token. Refuses a label or id that a private key on the
 * token already has. Returns the id (hex) and the public key.
 */
export async function generateTokenKey(target: TokenTarget, request: { type: TokenKeyType; label: string; id?: string }): Promise<{ id: string; publicKey: KeyObject }> {
  const id = request.id ? Buffer.from(request.id, 'hex') : randomBytes(8);
  const pool = sessionPool(target, { size: 1, readWrite: true });
  return pool.use('generating a key pair', async (ctx) => {
    for (const clash of [{ label: request.label }, { id: id.toString('hex') }]) {
      if (findObjects(ctx, P11.CKO_PRIVATE_KEY, clash, 1).length) throw new HsmError('key_exists', `token ${pool.name} already has a private key ${describeKey(clash)}`);
    }
    const { mechanism, publicTemplate, privateTemplate } = templates(request.type, request.label, id);
    const keys = await ctx.lib.C_GenerateKeyPairAsync(ctx.session, { mechanism }, publicTemplate, privateTemplate);
    return { id: id.toString('hex'), publicKey: publicKey(ctx, keys.publicKey) };
  });
}

/** The public key stored beside a token key (for a certificate request). */
export async function tokenPublicKey(target: TokenTarget, key: KeySelector): Promise<KeyObject> {
  const pool = sessionPool(target);
  return pool.use('reading the public key', (ctx) => publicKey(ctx, findObject(ctx, P11.CKO_PUBLIC_KEY, key, pool.name)));
}
