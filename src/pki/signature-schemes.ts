/**
 * Signature algorithms a CMS signer, an OCSP response or a CRL may name, resolved from the
 * AlgorithmIdentifier to a scheme node:crypto verifies: RSA PKCS#1 v1.5 and RSASSA-PSS (any
 * hash, MGF1 hash and salt length, RFC 4055 defaults), ECDSA (DER or plain r||s per BSI
 * TR-03111), Ed25519 and Ed448 (RFC 8419), with SHA-1, SHA-2 and SHA-3 digests; and SM2 with
 * SM3 (GB/T 32918.2, Z over the default ID), which node:crypto cannot do (see sm2/).
 * Parameters are read with pkijs (RSASSA-PSS-params).
 */
import { constants, createVerify, publicDecrypt, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { Block } from './asn1.js';
import { digestOf, DIGEST_BY_OID } from './digests.js';
import { OID } from './oids.js';
import { mayBeSm2Key, sm2PointOfKey } from './sm2/sm2-keys.js';
import { sm2VerifyMessage } from './sm2/sm2-signature.js';

export type SignatureScheme =
  | { name: 'RSA-PKCS1'; hash: string }
  | { name: 'RSA-PSS'; hash: string; mgf1Hash: string; saltLength: number }
  | { name: 'ECDSA' | 'ECDSA-plain'; hash: string }
  | { name: 'Ed25519' | 'Ed448'; hash: '' }
  | { name: 'SM2'; hash: 'sm3' };

export type SchemeName = SignatureScheme['name'];

/** The algorithm could not be resolved: `algorithm` names what is not supported (OID or name). */
export interface UnsupportedScheme {
  unsupported: string;
}

const RSA_PKCS1: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
  '2.16.840.1.101.3.4.3.13': 'sha3-224',
  '2.16.840.1.101.3.4.3.14': 'sha3-256',
  '2.16.840.1.101.3.4.3.15': 'sha3-384',
  '2.16.840.1.101.3.4.3.16': 'sha3-512',
};

const ECDSA: Record<string, string> = {
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  '2.16.840.1.101.3.4.3.9': 'sha3-224',
  '2.16.840.1.101.3.4.3.10': 'sha3-256',
  '2.16.840.1.101.3.4.3.11': 'sha3-384',
  '2.16.840.1.101.3.4.3.12': 'sha3-512',
};

/** BSI TR-03111 ecdsa-plain-* (signature value r||s). */
const ECDSA_PLAIN: Record<string, string> = {
  '0.4.0.127.0.7.1.1.4.1.1': 'sha1',
  '0.4.0.127.0.7.1.1.4.1.2': 'sha224',
  '0.4.0.127.0.7.1.1.4.1.3': 'sha256',
  '0.4.0.127.0.7.1.1.4.1.4': 'sha384',
  '0.4.0.127.0.7.1.1.4.1.5': 'sha512',
  '0.4.0.127.0.7.1.1.4.1.6': 'ripemd160',
};

/** Hashes node:crypto signs with for RSA and ECDSA (not SM3 or SHAKE). */
const SIGNING_HASHES = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512', 'ripemd160']);

const MGF1 = OID.mgf1;

function hashOf(algorithm: pkijs.AlgorithmIdentifier): string | undefined {
  return DIGEST_BY_OID[algorithm.algorithmId];
}

function pssScheme(params: Block | undefined): SignatureScheme | UnsupportedScheme {
  // Absent parameters mean every default of RFC 4055 (SHA-1, MGF1 with SHA-1, salt 20).
  const p = params && !(params instanceof asn1js.Null) ? new pkijs.RSASSAPSSParams({ schema: params }) : new pkijs.RSASSAPSSParams();
  const hash = hashOf(p.hashAlgorithm);
  if (!hash || !SIGNING_HASHES.has(hash)) return { unsupported: `RSASSA-PSS with hash ${p.hashAlgorithm.algorithmId}` };
  if (p.maskGenAlgorithm.algorithmId !== MGF1) return { unsupported: `RSASSA-PSS with mask generation ${p.maskGenAlgorithm.algorithmId}` };
  const mgfParams: unknown = p.maskGenAlgorithm.algorithmParams;
  const mgf1Hash = mgfParams instanceof asn1js.Sequence ? hashOf(new pkijs.AlgorithmIdentifier({ schema: mgfParams })) : undefined;
  if (!mgf1Hash || !SIGNING_HASHES.has(mgf1Hash)) return { unsupported: 'RSASSA-PSS with an unknown MGF1 hash' };
  if (p.trailerField !== 1) return { unsupported: `RSASSA-PSS with trailer field ${p.trailerField}` };
  if (!Number.isSafeInteger(p.saltLength) || p.saltLength < 0 || p.saltLength > 1024) return { unsupported: `RSASSA-PSS with salt length ${p.saltLength}` };
  return { name: 'RSA-PSS', hash, mgf1Hash, saltLength: p.saltLength };
}

/**
 * Resolves a signature AlgorithmIdentifier. `digest` is the signer's digest algorithm, used
 * when the identifier names only the key type (rsaEncryption, id-ecPublicKey).
 */
export function resolveScheme(oid: string, params: Block | undefined, digest: string): SignatureScheme | UnsupportedScheme {
  const withDigest = (name: 'RSA-PKCS1' | 'ECDSA'): SignatureScheme | UnsupportedScheme => (SIGNING_HASHES.has(digest) ? { name, hash: digest } : { unsupported: `${name} with ${digest}` });
  if (RSA_PKCS1[oid]) return { name: 'RSA-PKCS1', hash: RSA_PKCS1[oid]! };
  if (oid === OID.rsaEncryption) return withDigest('RSA-PKCS1');
  if (oid === OID.rsassaPss) return pssScheme(params);
  if (oid === OID.sm2WithSm3) return { name: 'SM2', hash: 'sm3' };
  // GM/T 0010 signers often name the key (SM2, or id-ecPublicKey) with an SM3 digest algorithm.
  if ((oid === OID.sm2 || oid === OID.sm2Sign || oid === OID.ecPublicKey) && digest === 'sm3') return { name: 'SM2', hash: 'sm3' };
  if (oid === OID.sm2 || oid === OID.sm2Sign) return { unsupported: `SM2 with ${digest || 'no digest'}` };
  if (ECDSA[oid]) return { name: 'ECDSA', hash: ECDSA[oid]! };
  if (oid === OID.ecPublicKey) return withDigest('ECDSA');
  if (ECDSA_PLAIN[oid]) return { name: 'ECDSA-plain', hash: ECDSA_PLAIN[oid]! };
  if (oid === OID.ed25519) return { name: 'Ed25519', hash: '' };
  if (oid === OID.ed448) return { name: 'Ed448', hash: '' };
  return { unsupported: oid };
}

export const isUnsupported = (s: SignatureScheme | UnsupportedScheme): s is UnsupportedScheme => 'unsupported' in s;

const KEY_TYPES: Record<SchemeName, readonly string[]> = {
  'RSA-PKCS1': ['rsa'],
  'RSA-PSS': ['rsa', 'rsa-pss'],
  ECDSA: ['ec'],
  'ECDSA-plain': ['ec'],
  Ed25519: ['ed25519'],
  Ed448: ['ed448'],
  SM2: [], // node gives SM2 keys no type; sm2PointOfKey recognises them
};

/** Whether the key is of the type the scheme needs. An SM2-curve key never fits ECDSA: ECDSA over that curve is not SM2. */
export const keyFitsScheme = (key: KeyObject, scheme: SignatureScheme): boolean =>
  scheme.name === 'SM2' ? sm2PointOfKey(key) !== null : KEY_TYPES[scheme.name].includes(key.asymmetricKeyType ?? '') && !mayBeSm2Key(key);

/** MGF1 (RFC 8017 B.2.1). */
function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0, have = 0; have < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = digestOf(hash, [seed, c]);
    blocks.push(block);
    have += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * EMSA-PSS verification (RFC 8017 9.1.2) over the raw RSA public operation, for parameters
 * node's verify cannot express (an MGF1 hash other than the message hash).
 */
function verifyPssGeneric(data: readonly Buffer[], key: KeyObject, scheme: Extract<SignatureScheme, { name: 'RSA-PSS' }>, signature: Buffer): boolean {
  const modBits = key.asymmetricKeyDetails?.modulusLength;
  if (!modBits || key.asymmetricKeyType !== 'rsa') return false;
  const k = Math.ceil(modBits / 8);
  if (signature.length !== k) return false;
  const m = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (m.length - emLen > 0 && m.subarray(0, m.length - emLen).some((b) => b !== 0)) return false;
  const em = m.subarray(m.length - emLen);
  const mHash = digestOf(scheme.hash, data);
  const hLen = mHash.length;
  const sLen = scheme.saltLength;
  if (emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  const topMask = 0xff >> topBits;
  if ((maskedDb[0]! & ~topMask & 0xff) !== 0) return false;
  const dbMask = mgf1(h, maskedDb.length, scheme.mgf1Hash);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ dbMask[i]!;
  db[0] = db[0]! & topMask;
  const psLen = emLen - hLen - sLen - 2;
  if (db.subarray(0, psLen).some((b) => b !== 0) || db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const hPrime = digestOf(scheme.hash, [Buffer.alloc(8), mHash, salt]);
  return timingSafeEqual(h, hPrime);
}

/** Verifies a signature over `data` (pieces, in order) with node:crypto; false on any failure. */
export function verifyWithScheme(data: readonly Buffer[], key: KeyObject, scheme: SignatureScheme, signature: Buffer): boolean {
  if (!keyFitsScheme(key, scheme)) return false;
  try {
    switch (scheme.name) {
      case 'Ed25519':
      case 'Ed448':
        return verify(null, Buffer.concat(data), key, signature);
      case 'RSA-PSS':
        if (scheme.mgf1Hash !== scheme.hash) return verifyPssGeneric(data, key, scheme, signature);
        return update(createVerify(scheme.hash), data).verify({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength }, signature);
      case 'SM2':
        return sm2VerifyMessage(data, signature, sm2PointOfKey(key)!);
      case 'ECDSA-plain':
        return update(createVerify(scheme.hash), data).verify({ key, dsaEncoding: 'ieee-p1363' }, signature);
      default:
        return update(createVerify(scheme.hash), data).verify(key, signature);
    }
  } catch {
    return false;
  }
}

function update<T extends { update(d: Buffer): unknown }>(target: T, data: readonly Buffer[]): T {
  for (const d of data) target.update(d);
  return target;
}
