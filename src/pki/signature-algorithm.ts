import { algorithmId, contextTag, integer, nullValue, sequence } from './der.js';
import { DIGEST_OID, OID } from './oids.js';
import type { DigestName, ShaDigestName, SignerKeyInfo } from './signer.js';

const DIGEST_BYTES: Record<DigestName, number> = { sha256: 32, sha384: 48, sha512: 64, sm3: 32 };
const RSA_PKCS1: Record<ShaDigestName, string> = { sha256: OID.sha256WithRSA, sha384: OID.sha384WithRSA, sha512: OID.sha512WithRSA };
const ECDSA: Record<ShaDigestName, string> = { sha256: OID.ecdsaWithSha256, sha384: OID.ecdsaWithSha384, sha512: OID.ecdsaWithSha512 };

/** The RSASSA-PSS salt length signers use: the digest's length (as RFC 4055 recommends). */
export const pssSaltLength = (digest: DigestName): number => DIGEST_BYTES[digest];

/** The digest a key signs with unless told otherwise: SM3 for SM2 keys, SHA-256 for the others. */
export const defaultDigestFor = (key: SignerKeyInfo): DigestName => (key.kind === 'sm2' ? 'sm3' : 'sha256');

/** SM3 belongs to SM2 keys and SHA-2 to the others; any other pairing is refused. */
export function checkDigestFits(key: SignerKeyInfo, digest: DigestName): void {
  if ((key.kind === 'sm2') !== (digest === 'sm3')) throw new Error(`a ${key.kind.toUpperCase()} key does not sign with ${digest.toUpperCase()}`);
}

/** The DER AlgorithmIdentifier of the signatures a key produces with this digest (CMS and X.509 alike). */
export function signatureAlgorithmId(key: SignerKeyInfo, digest: DigestName): Buffer {
  checkDigestFits(key, digest);
  // SM2-with-SM3 has no parameters (GM/T 0010, as OpenSSL writes it).
  if (key.kind === 'sm2' || digest === 'sm3') return algorithmId(OID.sm2WithSm3);
  if (key.kind === 'ec') return algorithmId(ECDSA[digest]);
  if (key.padding !== 'pss') return algorithmId(RSA_PKCS1[digest], nullValue());
  const hash = algorithmId(DIGEST_OID[digest]);
  // RSASSA-PSS-params: hashAlgorithm [0], maskGenAlgorithm [1], saltLength [2]; trailerField keeps its default.
  const params = sequence(contextTag(0, true, hash), contextTag(1, true, algorithmId(OID.mgf1, hash)), contextTag(2, true, integer(pssSaltLength(digest))));
  return algorithmId(OID.rsassaPss, params);
}
