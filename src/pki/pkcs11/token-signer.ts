import { createHash } from 'node:crypto';
import { algorithmId, integer, nullValue, octetString, sequence } from '../der.js';
import { DIGEST_OID } from '../oids.js';
import { pssSaltLength } from '../signature-algorithm.js';
import type { DigestName, ShaDigestName, Signer, SignerKeyInfo } from '../signer.js';
import { P11, type Handle, type Mechanism, type RsaPssParams } from './binding.js';
import type { Pkcs11KeyRef } from './key-ref.js';
import { findObject, privateKeyInfo } from './objects.js';
import { sessionPool, type SessionPool } from './session-pool.js';

const FIELD_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;
const PSS_HASH: Record<ShaDigestName, [number, number]> = {
  sha256: [P11.CKM_SHA256, P11.CKG_MGF1_SHA256],
  sha384: [P11.CKM_SHA384, P11.CKG_MGF1_SHA384],
  sha512: [P11.CKM_SHA512, P11.CKG_MGF1_SHA512],
};

/** ECDSA in PKCS#11 returns r || s; CMS wants SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  return sequence(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

/**
 * A signer whose private key stays in a PKCS#11 token. The digest is computed here; the token
 * signs it with CKM_RSA_PKCS (over a DigestInfo), CKM_RSA_PKCS_PSS or CKM_ECDSA, so the same
 * code works with tokens that offer no hash-and-sign mechanisms. C_Sign runs on libuv's thread
 * pool, off the event loop.
 */
export class Pkcs11Signer implements Signer {
  private constructor(
    private readonly pool: SessionPool,
    private readonly ref: Pkcs11KeyRef,
    readonly key: SignerKeyInfo,
  ) {}

  /** Finds the key in its token and learns its type and size. */
  static async open(ref: Pkcs11KeyRef): Promise<Pkcs11Signer> {
    const pool = sessionPool(ref);
    const info = await pool.use('reading the key', (ctx) => privateKeyInfo(ctx, findObject(ctx, P11.CKO_PRIVATE_KEY, ref.key, pool.name)));
    const key: SignerKeyInfo = info.kind === 'rsa' ? { ...info, padding: ref.rsaPadding ?? 'pkcs1' } : info;
    return new Pkcs11Signer(pool, ref, key);
  }

  async sign(data: Buffer, digest: DigestName): Promise<Buffer> {
    const hash = createHash(digest).update(data).digest();
    const { mechanism, input, outputLength } = this.operation(hash, digest);
    return this.pool.use('signing', async (ctx) => {
      const handle: Handle = findObject(ctx, P11.CKO_PRIVATE_KEY, this.ref.key, this.pool.name);
      ctx.lib.C_SignInit(ctx.session, mechanism, handle);
      const signature = await ctx.lib.C_SignAsync(ctx.session, input, Buffer.alloc(outputLength));
      return this.key.kind === 'ec' ? ecdsaRawToDer(signature) : Buffer.from(signature);
    });
  }

  /** Reads one attribute of the key: a token that went away fails this as it would fail signing. */
  async checkAvailable(): Promise<void> {
    await this.pool.use('checking the key', (ctx) => {
      ctx.lib.C_GetAttributeValue(ctx.session, findObject(ctx, P11.CKO_PRIVATE_KEY, this.ref.key, this.pool.name), [{ type: P11.CKA_KEY_TYPE }]);
    });
  }

  private operation(hash: Buffer, digest: DigestName): { mechanism: Mechanism; input: Buffer; outputLength: number } {
    // Tokens here offer RSA and ECDSA keys; SM2 mechanisms are vendor-specific and not used.
    if (this.key.kind === 'sm2' || digest === 'sm3') throw new Error('SM2 keys in PKCS#11 tokens are not supported');
    if (this.key.kind === 'ec') return { mechanism: { mechanism: P11.CKM_ECDSA }, input: hash, outputLength: 2 * FIELD_BYTES[this.key.curve] };
    const outputLength = Math.ceil(this.key.modulusBits / 8);
    if (this.key.padding === 'pss') {
      const [hashAlg, mgf] = PSS_HASH[digest];
      const parameter: RsaPssParams = { type: P11.CK_PARAMS_RSA_PSS, hashAlg, mgf, saltLen: pssSaltLength(digest) };
      return { mechanism: { mechanism: P11.CKM_RSA_PKCS_PSS, parameter }, input: hash, outputLength };
    }
    const digestInfo = sequence(algorithmId(DIGEST_OID[digest], nullValue()), octetString(hash));
    return { mechanism: { mechanism: P11.CKM_RSA_PKCS }, input: digestInfo, outputLength };
  }
}
