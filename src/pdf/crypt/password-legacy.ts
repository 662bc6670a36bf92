import { createHash } from 'node:crypto';
import { rc4 } from './rc4.js';

/** The 32-byte padding string of ISO 32000-2 7.6.4.3.2 algorithm 2, step a. */
const PADDING = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

/** What revisions 2-4 of the standard security handler need from the encryption dictionary. */
export interface LegacyParams {
  revision: 2 | 3 | 4;
  /** The file key length in bytes (5 for revision 2). */
  keyLength: number;
  /** The first 32 bytes of /O and /U. */
  o: Buffer;
  u: Buffer;
  p: number;
  firstId: Buffer;
  encryptMetadata: boolean;
}

function md5(...parts: Buffer[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Password bytes padded or truncated to 32 bytes (step a). */
function pad(password: Buffer): Buffer {
  return Buffer.concat([password.subarray(0, 32), PADDING]).subarray(0, 32);
}

/** Algorithm 2: the file encryption key from a (padded) user password. */
function fileKey(params: LegacyParams, paddedPassword: Buffer): Buffer {
  const p = Buffer.alloc(4);
  p.writeInt32LE(params.p | 0);
  const parts = [paddedPassword, params.o, p, params.firstId];
  if (params.revision >= 4 && !params.encryptMetadata) parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  let hash = md5(...parts);
  if (params.revision >= 3) {
    for (let i = 0; i < 50; i++) hash = md5(hash.subarray(0, params.keyLength));
  }
  return hash.subarray(0, params.keyLength);
}

function xorKey(key: Buffer, value: number): Buffer {
  return Buffer.from(key.map((b) => b ^ value));
}

/** Algorithms 4 and 5: the /U value a key produces, compared with the stored one (16 bytes from revision 3 on). */
function matchesU(params: LegacyParams, key: Buffer): boolean {
  if (params.revision === 2) return rc4(key, PADDING).equals(params.u);
  let value = rc4(key, md5(PADDING, params.firstId));
  for (let i = 1; i <= 19; i++) value = rc4(xorKey(key, i), value);
  return value.equals(params.u.subarray(0, 16));
}

/** Algorithm 6: the file key when `password` is the user password. */
function userKey(params: LegacyParams, paddedPassword: Buffer): Buffer | undefined {
  const key = fileKey(params, paddedPassword);
  return matchesU(params, key) ? key : undefined;
}

/** Algorithm 7 (with algorithm 3's key): the user password recovered from /O with the owner password. */
function userPasswordFromOwner(params: LegacyParams, ownerPassword: Buffer): Buffer {
  let hash = md5(pad(ownerPassword));
  if (params.revision >= 3) {
    for (let i = 0; i < 50; i++) hash = md5(hash);
  }
  const key = hash.subarray(0, params.revision === 2 ? 5 : params.keyLength);
  if (params.revision === 2) return rc4(key, params.o);
  let value = params.o;
  for (let i = 19; i >= 0; i--) value = rc4(xorKey(key, i), value);
  return value;
}

/** The file key for `password` as the user or else the owner password; undefined when it is neither. */
export function authenticateLegacy(params: LegacyParams, password: Buffer): { key: Buffer; as: 'user' | 'owner' } | undefined {
  const asUser = userKey(params, pad(password));
  if (asUser) return { key: asUser, as: 'user' };
  const asOwner = userKey(params, userPasswordFromOwner(params, password));
  return asOwner ? { key: asOwner, as: 'owner' } : undefined;
}

/** Algorithm 1: the key of one object's strings and streams (RC4, or AES-128 with `aes`). */
export function objectKey(fileKey: Buffer, num: number, gen: number, aes: boolean): Buffer {
  const suffix = Buffer.from([num & 0xff, (num >> 8) & 0xff, (num >> 16) & 0xff, gen & 0xff, (gen >> 8) & 0xff]);
  const hash = aes ? md5(fileKey, suffix, Buffer.from('sAlT', 'latin1')) : md5(fileKey, suffix);
  return hash.subarray(0, Math.min(fileKey.length + 5, 16));
}
