import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeBer, isUniversal, octetsOf, oidOf, SMALL_LIMITS } from '../asn1.js';
import { OID } from '../oids.js';
import type { SignerKeyInfo } from '../signer.js';
import { P11, type Handle, type Template } from './binding.js';
import { HsmError } from './errors.js';
import { describeKey, type KeySelector } from './key-ref.js';
import type { SessionContext } from './session-pool.js';

export const CURVE_OIDS = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34', 'P-521': '1.3.132.0.35' } as const;
export type CurveName = keyof typeof CURVE_OIDS;

function selectorTemplate(objectClass: number, key: KeySelector): Template {
  return [
    { type: P11.CKA_CLASS, value: objectClass },
    ...(key.label !== undefined ? [{ type: P11.CKA_LABEL, value: key.label }] : []),
    ...(key.id !== undefined ? [{ type: P11.CKA_ID, value: Buffer.from(key.id, 'hex') }] : []),
  ];
}

/** Every object of the class matching the selector (at most `max`). */
export function findObjects({ lib, session }: SessionContext, objectClass: number, key: KeySelector, max = 2): Handle[] {
  lib.C_FindObjectsInit(session, selectorTemplate(objectClass, key));
  try {
    return lib.C_FindObjects(session, max);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

/** The one object of the class matching the selector; its handle is cached in the pool. */
export function findObject(ctx: SessionContext, objectClass: number, key: KeySelector, token: string): Handle {
  const cacheKey = JSON.stringify([objectClass, key.label ?? null, key.id ?? null]);
  const cached = ctx.handles.get(cacheKey);
  if (cached) return cached;
  const what = objectClass === P11.CKO_PRIVATE_KEY ? 'private key' : 'public key';
  const found = findObjects(ctx, objectClass, key);
  if (found.length === 0) throw new HsmError('key_missing', `token ${token} has no ${what} ${describeKey(key)}`);
  if (found.length > 1) throw new HsmError('key_missing', `token ${token} has more than one ${what} ${describeKey(key)}; name it by label and id`);
  ctx.handles.set(cacheKey, found[0]!);
  return found[0]!;
}

function attributes({ lib, session }: SessionContext, handle: Handle, types: number[]): Buffer[] {
  return lib.C_GetAttributeValue(session, handle, types.map((type) => ({ type }))).map((a) => a.value as Buffer);
}

/** A CK_ULONG attribute, in the host's (little-endian) byte order. */
const ulong = (value: Buffer): number => (value.length >= 4 ? value.readUInt32LE(0) : value[0]!);

function curveOf(ecParams: Buffer): CurveName {
  let oid: string;
  try {
    oid = oidOf(decodeBer(ecParams, 'EC parameters', SMALL_LIMITS), 'EC parameters');
  } catch {
    throw new HsmError('key_missing', 'the token key has EC parameters that are not a named curve');
  }
  if (oid === OID.sm2) {
    // A token offers SM2 signatures only through vendor mechanisms; signed with CKM_ECDSA, an
    // SM2-curve key gives an ECDSA signature, which is not SM2 (GB/T 32918.2).
    throw new HsmError('key_missing', 'the token key is on the SM2 curve: SM2 keys in PKCS#11 tokens are not supported (only vendor mechanisms sign SM2, and the tokens here offer none); load the SM2 seal key from an encrypted PKCS#8 or PKCS#12 keystore');
  }
  const curve = (Object.keys(CURVE_OIDS) as CurveName[]).find((c) => CURVE_OIDS[c] === oid);
  if (!curve) throw new HsmError('key_missing', `the token key is on curve ${oid}, which seals do not use`);
  return curve;
}

/** Key type and size of a private key, read from attributes a sensitive key still shows. */
export function privateKeyInfo(ctx: SessionContext, handle: Handle): SignerKeyInfo {
  const [type, canSign] = attributes(ctx, handle, [P11.CKA_KEY_TYPE, P11.CKA_SIGN]);
  if (!canSign?.[0]) throw new HsmError('key_missing', 'the token key may not sign (CKA_SIGN is false)');
  const keyType = ulong(type!);
  if (keyType === P11.CKK_RSA) {
    const [modulus] = attributes(ctx, handle, [P11.CKA_MODULUS]);
    return { kind: 'rsa', modulusBits: modulus!.length * 8 };
  }
  if (keyType === P11.CKK_EC) {
    const [params] = attributes(ctx, handle, [P11.CKA_EC_PARAMS]);
    return { kind: 'ec', curve: curveOf(params!) };
  }
  throw new HsmError('key_missing', `the token key is of type ${keyType}, not RSA or EC`);
}

/** CKA_EC_POINT is a DER OCTET STRING around the point; a few modules return the bare point. */
function uncompressedPoint(value: Buffer): Buffer {
  try {
    const node = decodeBer(value, 'EC point', SMALL_LIMITS);
    const point = isUniversal(node, 4) ? octetsOf(node, 'EC point') : undefined;
    if (point && point[0] === 0x04) return point;
  } catch {
    // not DER: the bare point
  }
  return value;
}

/** The public key object, as a node KeyObject. */
export function publicKey(ctx: SessionContext, handle: Handle): KeyObject {
  const [type] = attributes(ctx, handle, [P11.CKA_KEY_TYPE]);
  const keyType = ulong(type!);
  if (keyType === P11.CKK_RSA) {
    const [n, e] = attributes(ctx, handle, [P11.CKA_MODULUS, P11.CKA_PUBLIC_EXPONENT]);
    return createPublicKey({ key: { kty: 'RSA', n: n!.toString('base64url'), e: e!.toString('base64url') }, format: 'jwk' });
  }
  if (keyType === P11.CKK_EC) {
    const [params, point] = attributes(ctx, handle, [P11.CKA_EC_PARAMS, P11.CKA_EC_POINT]);
    const curve = curveOf(params!);
    const xy = uncompressedPoint(point!).subarray(1);
    const half = xy.length / 2;
    return createPublicKey({ key: { kty: 'EC', crv: curve, x: xy.subarray(0, half).toString('base64url'), y: xy.subarray(half).toString('base64url') }, format: 'jwk' });
  }
  throw new HsmError('key_missing', `the token public key is of type ${keyType}, not RSA or EC`);
}
