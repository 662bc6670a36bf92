/**
 * A signer holds one private key and signs on request. It receives only the bytes to sign
 * (for CMS: the DER of the signed attributes), never the document, so a key backend such as a
 * PKCS#11 token can sit behind the same interface.
 */
export type ShaDigestName = 'sha256' | 'sha384' | 'sha512';
/** SM3 is the digest of SM2 keys, and only of them. */
export type DigestName = ShaDigestName | 'sm3';

export type SignerKeyInfo =
  /** `padding` defaults to PKCS#1 v1.5; `pss` signs RSASSA-PSS with MGF1 and a salt as long as the digest. */
  | { readonly kind: 'rsa'; readonly modulusBits: number; readonly padding?: 'pkcs1' | 'pss' }
  | { readonly kind: 'ec'; readonly curve: 'P-256' | 'P-384' | 'P-521' }
  /** SM2 (GB/T 32918.2) with Z over the default distinguishing ID; signs with SM3 only. */
  | { readonly kind: 'sm2' };

export interface Signer {
  readonly key: SignerKeyInfo;
  /**
   * Signs `data` (hashing it with `digest` first). RSA signatures are PKCS#1 v1.5 or, when the
   * key info says so, RSASSA-PSS; ECDSA and SM2 signatures are DER-encoded
   * `SEQUENCE { r, s }` as CMS expects. An SM2 signer hashes SM3(Z || data).
   */
  sign(data: Buffer, digest: DigestName): Promise<Buffer>;
  /** For keys held elsewhere (a token): confirms the key can be reached now, without signing. */
  checkAvailable?(): Promise<void>;
}
