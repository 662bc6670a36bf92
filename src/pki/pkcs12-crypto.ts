/**
 * Password-based cryptography of PKCS#12 files (RFC 7292, RFC 8018) with node:crypto: the
 * PKCS#12 key derivation (MAC keys and the legacy PBE schemes), PBES2 with PBKDF2, and the
 * legacy pbeWithSHAAnd* schemes. RC2 (pbeWithSHAAnd40BitRC2-CBC, what Java and `openssl pkcs12
 * -legacy` use for certificates) is not in this node's OpenSSL without the legacy provider, so
 * node-forge's RC2 decrypts it; everything else is node:crypto.
 */
import { createDecipheriv, createHash, pbkdf2Sync } from 'node:crypto';
import * as asn1js from 'asn1js';
import forge from 'node-forge';
import * as pkijs from 'pkijs';
import { Asn1Error, matchSchema, octetsOf, smallInteger, type Block } from './asn1.js';
import { DIGEST_BY_OID } from './digests.js';

/** Work bound for hostile files: more iterations than this are refused. */
export const MAX_ITERATIONS = 2_000_000;

const BLOCK_SIZE: Record<string, { u: number; v: number }> = {
  sha1: { u: 20, v: 64 },
  sha224: { u: 28, v: 64 },
  sha256: { u: 32, v: 64 },
  sha384: { u: 48, v: 128 },
  sha512: { u: 64, v: 128 },
};

function bmpPassword(password: string): Buffer {
  return Buffer.from(`${password}\0`, 'utf16le').swap16();
}

function checkIterations(iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new Asn1Error(`unacceptable iteration count ${iterations}`);
}

/** RFC 7292 appendix B key derivation; id 1 = key, 2 = IV, 3 = MAC key. */
export function pkcs12Kdf(hashName: string, password: string, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const size = BLOCK_SIZE[hashName];
  if (!size) throw new Asn1Error(`unsupported PKCS#12 KDF hash ${hashName}`);
  checkIterations(iterations);
  const { u, v } = size;
  const d = Buffer.alloc(v, id);
  const repeat = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const i = Buffer.concat([repeat(salt), repeat(bmpPassword(password))]);
  const blocks: Buffer[] = [];
  for (let c = 0; c < Math.ceil(length / u); c++) {
    let a = createHash(hashName).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hashName).update(a).digest();
    blocks.push(a);
    const b = repeat(a);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** pbeWithSHAAnd* (RFC 7292 appendix C): cipher, key and IV lengths. */
const PKCS12_PBE: Record<string, { cipher: string; keyLength: number; ivLength: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16, ivLength: 8 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2-cbc', keyLength: 16, ivLength: 8 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2-cbc', keyLength: 5, ivLength: 8 },
};

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Record<string, { cipher: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLength: 24 },
};

/** The password was wrong (or the data corrupt): the padding did not check out. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

function decipher(cipher: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  if (cipher === 'rc2-cbc') return rc2Decrypt(key, iv, data);
  try {
    const d = createDecipheriv(cipher, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new DecryptionError('decryption failed');
  }
}

function rc2Decrypt(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher = forge.rc2.createDecryptionCipher(forge.util.createBuffer(key.toString('binary')), key.length * 8);
  cipher.start(forge.util.createBuffer(iv.toString('binary')));
  cipher.update(forge.util.createBuffer(data.toString('binary')));
  if (!cipher.finish()) throw new DecryptionError('decryption failed');
  return Buffer.from(cipher.output.getBytes(), 'binary');
}

const pkcs12PbeParamsSchema = (): asn1js.Sequence => new asn1js.Sequence({ value: [new asn1js.Any({ name: 'salt' }), new asn1js.Integer({ name: 'iterations' })] });

function pbes2Decrypt(params: Block, password: string, data: Buffer): Buffer {
  const p = new pkijs.PBES2Params({ schema: params });
  if (p.keyDerivationFunc.algorithmId !== PBKDF2) throw new Asn1Error(`unsupported key derivation ${p.keyDerivationFunc.algorithmId}`);
  const kdf = new pkijs.PBKDF2Params({ schema: p.keyDerivationFunc.algorithmParams });
  const scheme = PBES2_CIPHERS[p.encryptionScheme.algorithmId];
  if (!scheme) throw new Asn1Error(`unsupported PBES2 cipher ${p.encryptionScheme.algorithmId}`);
  const prf = kdf.prf ? PRF[kdf.prf.algorithmId] : 'sha1';
  if (!prf) throw new Asn1Error('unsupported PBKDF2 pseudo-random function');
  if (!(kdf.salt instanceof asn1js.OctetString)) throw new Asn1Error('unsupported PBKDF2 salt');
  checkIterations(kdf.iterationCount);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), octetsOf(kdf.salt, 'PBKDF2 salt'), kdf.iterationCount, scheme.keyLength, prf);
  const iv = octetsOf(p.encryptionScheme.algorithmParams as Block, 'PBES2 IV');
  return decipher(scheme.cipher, key, iv, data);
}

/** Decrypts PKCS#12 EncryptedData content with PBES2 or a pbeWithSHAAnd* scheme. */
export function pbeDecrypt(algorithm: pkijs.AlgorithmIdentifier, password: string, data: Buffer): Buffer {
  const params = algorithm.algorithmParams as Block;
  if (algorithm.algorithmId === PBES2) return pbes2Decrypt(params, password, data);
  const legacy = PKCS12_PBE[algorithm.algorithmId];
  if (!legacy) throw new Asn1Error(`unsupported encryption ${algorithm.algorithmId}`);
  const named = matchSchema(params, pkcs12PbeParamsSchema(), 'PBE parameters');
  const salt = octetsOf(named.salt!, 'PBE salt');
  const iterations = smallInteger(named.iterations!, 'PBE iterations');
  const key = pkcs12Kdf('sha1', password, salt, 1, iterations, legacy.keyLength);
  const iv = pkcs12Kdf('sha1', password, salt, 2, iterations, legacy.ivLength);
  return decipher(legacy.cipher, key, iv, data);
}

/** The MAC key and HMAC hash of a PFX's MacData (RFC 7292 appendix B, with the MAC's digest). */
export function macKey(digestOid: string, password: string, salt: Buffer, iterations: number): { hash: string; key: Buffer } {
  const hash = DIGEST_BY_OID[digestOid];
  const size = hash ? BLOCK_SIZE[hash] : undefined;
  if (!hash || !size) throw new Asn1Error(`unsupported PKCS#12 MAC digest ${digestOid}`);
  return { hash, key: pkcs12Kdf(hash, password, salt, 3, iterations, size.u) };
}
