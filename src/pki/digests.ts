/**
 * Digest algorithms a signature or timestamp may name, by OID, and hashing with node:crypto.
 * SHAKE256 is used with a 512-bit output, as RFC 8419 specifies for Ed448 in CMS.
 */
import { createHash, type Hash } from 'node:crypto';
import { OID } from './oids.js';

export const DIGEST_BY_OID: Readonly<Record<string, string>> = {
  [OID.sha1]: 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
  '2.16.840.1.101.3.4.2.7': 'sha3-224',
  '2.16.840.1.101.3.4.2.8': 'sha3-256',
  '2.16.840.1.101.3.4.2.9': 'sha3-384',
  '2.16.840.1.101.3.4.2.10': 'sha3-512',
  [OID.shake256]: 'shake256',
  [OID.sm3]: 'sm3',
};

const SUPPORTED = new Set(Object.values(DIGEST_BY_OID));

/** id-shake256-len (RFC 8702): SHAKE256 with the output length in bits as parameter (Java writes it for Ed448). */
export const SHAKE256_LEN = '2.16.840.1.101.3.4.2.18';

/**
 * The digest name of an AlgorithmIdentifier: DIGEST_BY_OID, plus id-shake256-len with a
 * 512-bit output (which is SHAKE256 as RFC 8419 uses it). undefined when not supported.
 */
export function digestNameOf(oid: string, outputBits: number | undefined): string | undefined {
  if (oid === SHAKE256_LEN) return outputBits === 512 ? 'shake256' : undefined;
  return DIGEST_BY_OID[oid];
}

export const isSupportedDigest = (name: string): boolean => SUPPORTED.has(name);

/** A node:crypto hash for a digest name from DIGEST_BY_OID (SHAKE256 with 64 bytes of output). */
export function createDigest(name: string): Hash {
  return name === 'shake256' ? createHash('shake256', { outputLength: 64 }) : createHash(name);
}

export function digestOf(name: string, chunks: readonly Buffer[]): Buffer {
  const hash = createDigest(name);
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest();
}
