/**
 * A Signer over an SM2 key held in this process. The private scalar lives only in the closure
 * of the signer's `sign`: nothing on the object returns or shows it.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { DigestName, Signer } from '../signer.js';
import { DEFAULT_SM2_ID, sm2MessageDigest, sm2ZValue } from './sm2-digest.js';
import { mayBeSm2Key, sm2ScalarOfPkcs8 } from './sm2-keys.js';
import { sm2PublicPointOf, sm2SignDigest, sm2SigningKey } from './sm2-signature.js';

export interface Sm2Signer extends Signer {
  readonly key: { readonly kind: 'sm2' };
  /** 0x04 || x || y. */
  readonly publicPoint: Buffer;
  /** `sign` without the promise, for the development CA's CRLs and OCSP responses (built synchronously). */
  signSync(data: Buffer): Buffer;
}

/** A signer for the private scalar d, signing with Z over `id` (the default ID unless given). */
export function createSm2Signer(privateScalar: Buffer, id: Buffer = DEFAULT_SM2_ID): Sm2Signer {
  const key = sm2SigningKey(privateScalar);
  const publicPoint = sm2PublicPointOf(privateScalar);
  const zValue = sm2ZValue(publicPoint, id);
  const signSync = (data: Buffer): Buffer => sm2SignDigest(sm2MessageDigest(zValue, [data]), key);
  return Object.freeze({
    key: Object.freeze({ kind: 'sm2' as const }),
    publicPoint: Buffer.from(publicPoint),
    signSync,
    async sign(data: Buffer, digest: DigestName): Promise<Buffer> {
      if (digest !== 'sm3') throw new Error(`an SM2 key signs with SM3, not ${digest}`);
      return signSync(data);
    },
  });
}

/** An SM2 signer for a node private key object, or null when the key is not SM2. */
export function sm2SignerFromKeyObject(privateKey: KeyObject): Sm2Signer | null {
  if (privateKey.type !== 'private' || !mayBeSm2Key(privateKey)) return null;
  const scalar = sm2ScalarOfPkcs8(privateKey.export({ format: 'der', type: 'pkcs8' }));
  return scalar ? createSm2Signer(scalar) : null;
}

/** The key file is not an SM2 key, or cannot be decrypted with the password. */
export class Sm2KeyError extends Error {
  override name = 'Sm2KeyError';
}

/**
 * An SM2 signer from an encrypted PKCS#8 file, PEM or DER (as `openssl pkcs8 -topk8 -v2
 * aes-256-cbc` writes it); node:crypto (OpenSSL) decrypts it.
 */
export function loadSm2Pkcs8Signer(keyFile: Buffer, password: string): Sm2Signer {
  const pem = keyFile.subarray(0, 64).toString('latin1').includes('-----BEGIN');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem ? { key: keyFile, format: 'pem', passphrase: password } : { key: keyFile, format: 'der', type: 'pkcs8', passphrase: password });
  } catch (err) {
    throw new Sm2KeyError(`the key file cannot be read with this password: ${(err as Error).message}`);
  }
  const signer = sm2SignerFromKeyObject(privateKey);
  if (!signer) throw new Sm2KeyError('the key file does not hold an SM2 key');
  return signer;
}
