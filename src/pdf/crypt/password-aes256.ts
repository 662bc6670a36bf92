import { createHash } from 'node:crypto';
import { aes128EncryptNoPadding, aes256DecryptNoPadding } from './aes.js';

/** What revisions 5 and 6 (AES-256) need from the encryption dictionary. */
export interface Aes256Params {
  revision: 5 | 6;
  /** The first 48 bytes of /O and /U: hash (32), validation salt (8), key salt (8). */
  o: Buffer;
  u: Buffer;
  /** The first 32 bytes of /OE and /UE: the file key, encrypted under the owner or user key. */
  oe: Buffer;
  ue: Buffer;
}

const HASHES = ['sha256', 'sha384', 'sha512'] as const;

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/**
 * Algorithm 2.B of ISO 32000-2 (revision 6): at least 64 rounds of AES-128 over 64 copies of
 * password ‖ K ‖ user data, each rehashed with SHA-256/384/512 chosen by the ciphertext. It
 * stops once the ciphertext's last byte is at most the round number minus 32, so after at most
 * 288 rounds; with a password of at most 127 bytes each round encrypts under 16 KB.
 */
function hashRevision6(password: Buffer, salt: Buffer, userData: Buffer): Buffer {
  let k = sha256(password, salt, userData);
  for (let round = 1; ; round++) {
    const block = Buffer.concat([password, k, userData]);
    const k1 = Buffer.allocUnsafe(block.length * 64);
    for (let i = 0; i < 64; i++) block.copy(k1, i * block.length);
    const e = aes128EncryptNoPadding(k.subarray(0, 16), k.subarray(16, 32), k1);
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += e[i]!; // the first 16 bytes as a number, mod 3 (256 ≡ 1 mod 3)
    k = createHash(HASHES[sum % 3]!).update(e).digest();
    if (round >= 64 && e[e.length - 1]! <= round - 32) break;
  }
  return k.subarray(0, 32);
}

function hash(revision: 5 | 6, password: Buffer, salt: Buffer, userData: Buffer): Buffer {
  return revision === 5 ? sha256(password, salt, userData) : hashRevision6(password, salt, userData);
}

/**
 * Algorithm 2.A: the file key for `password` (UTF-8, at most 127 bytes) as the user or else the
 * owner password; undefined when it is neither.
 */
export function authenticateAes256(params: Aes256Params, password: Buffer): { key: Buffer; as: 'user' | 'owner' } | undefined {
  const { revision, o, u } = params;
  const none = Buffer.alloc(0);
  if (hash(revision, password, u.subarray(32, 40), none).equals(u.subarray(0, 32))) {
    const userKey = hash(revision, password, u.subarray(40, 48), none);
    return { key: aes256DecryptNoPadding(userKey, params.ue), as: 'user' };
  }
  if (hash(revision, password, o.subarray(32, 40), u).equals(o.subarray(0, 32))) {
    const ownerKey = hash(revision, password, o.subarray(40, 48), u);
    return { key: aes256DecryptNoPadding(ownerKey, params.oe), as: 'owner' };
  }
  return undefined;
}
