/**
 * Recognising SM2 keys in the encodings other tools write. OpenSSL 3 writes SM2 keys as
 * id-ecPublicKey with the SM2 curve OID as parameters (in SPKI and PKCS#8); some Chinese
 * products name the key algorithm by the SM2 OID itself (GM/T 0006). node:crypto reads the
 * first form (as a key of no named type) and cannot use it for SM2 signatures, so the point and
 * the private scalar are taken out here.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { bitStringBytes, decodeBer, octetsOf, oidOf, SMALL_LIMITS, type Block } from '../asn1.js';
import { algorithmId, oid, sequence, tlv } from '../der.js';
import { OID } from '../oids.js';
import { SM2_POINT_BYTES } from './sm2-digest.js';

const KEY_ALGORITHMS_NAMING_SM2 = new Set<string>([OID.sm2, OID.sm2Sign]);

/** Whether an AlgorithmIdentifier (as asn1js read it) names an SM2 key. */
function namesSm2Key(algorithm: Block): boolean {
  if (!(algorithm instanceof asn1js.Sequence)) return false;
  const [id, params] = algorithm.valueBlock.value;
  if (!id) return false;
  const keyAlgorithm = oidOf(id, 'key algorithm');
  if (KEY_ALGORITHMS_NAMING_SM2.has(keyAlgorithm)) return true;
  return keyAlgorithm === OID.ecPublicKey && params instanceof asn1js.ObjectIdentifier && params.valueBlock.toString() === OID.sm2;
}

/** The uncompressed public point of an SM2 SubjectPublicKeyInfo, or null when it is not one. */
export function sm2PointOfSpki(spkiDer: Buffer): Buffer | null {
  try {
    const spki = decodeBer(spkiDer, 'public key', SMALL_LIMITS);
    if (!(spki instanceof asn1js.Sequence)) return null;
    const [algorithm, key] = spki.valueBlock.value;
    if (!algorithm || !key || !namesSm2Key(algorithm)) return null;
    const point = bitStringBytes(key, 'public key');
    return point.length === SM2_POINT_BYTES && point[0] === 0x04 ? Buffer.from(point) : null;
  } catch {
    return null;
  }
}

/** The SPKI OpenSSL (and so node:crypto) reads for an SM2 point: id-ecPublicKey with the SM2 curve. */
export function standardSm2Spki(point: Buffer): Buffer {
  return sequence(algorithmId(OID.ecPublicKey, oid(OID.sm2)), tlv(0x03, Buffer.concat([Buffer.from([0]), point])));
}

/**
 * A node public key for an SM2 SPKI in either form (GM/T 0006 key OIDs are rewritten to the
 * form OpenSSL reads), or null when the SPKI is not SM2.
 */
export function sm2PublicKeyFromSpki(spkiDer: Buffer): KeyObject | null {
  const point = sm2PointOfSpki(spkiDer);
  return point ? createPublicKey({ key: standardSm2Spki(point), format: 'der', type: 'spki' }) : null;
}

/** node leaves SM2 keys read from DER without a type, and types keys it generated as EC on the SM2 curve. */
export const mayBeSm2Key = (key: KeyObject): boolean =>
  key.asymmetricKeyType === undefined || (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'SM2');

const pointsOfKeys = new WeakMap<KeyObject, Buffer | null>();

/** The SM2 point of a public (or private) key object, or null when it is not an SM2 key. */
export function sm2PointOfKey(key: KeyObject): Buffer | null {
  let point = pointsOfKeys.get(key);
  if (point === undefined) {
    point = mayBeSm2Key(key) ? sm2PointOfSpki((key.type === 'public' ? key : createPublicKey(key)).export({ format: 'der', type: 'spki' })) : null;
    pointsOfKeys.set(key, point);
  }
  return point;
}

/**
 * The private scalar d of an unencrypted PKCS#8 PrivateKeyInfo holding an SM2 key
 * (ECPrivateKey, RFC 5915), or null when the key is not SM2.
 */
export function sm2ScalarOfPkcs8(pkcs8Der: Buffer): Buffer | null {
  const info = decodeBer(pkcs8Der, 'private key', SMALL_LIMITS);
  if (!(info instanceof asn1js.Sequence)) return null;
  const [, algorithm, privateKey] = info.valueBlock.value;
  if (!algorithm || !privateKey || !namesSm2Key(algorithm)) return null;
  const ecPrivateKey = decodeBer(octetsOf(privateKey, 'private key'), 'EC private key', SMALL_LIMITS);
  if (!(ecPrivateKey instanceof asn1js.Sequence)) return null;
  const scalar = ecPrivateKey.valueBlock.value[1];
  return scalar ? Buffer.from(octetsOf(scalar, 'private scalar')) : null;
}
