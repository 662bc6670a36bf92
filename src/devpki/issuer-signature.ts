import { sign, type KeyObject } from 'node:crypto';
import { algorithmId, nullValue } from '../pki/der.js';
import { OID } from '../pki/oids.js';
import { sm2SignerFromKeyObject, type Sm2Signer } from '../pki/sm2/sm2-signer.js';

const sm2Signers = new WeakMap<KeyObject, Sm2Signer | null>();

/** The SM2 signer of a development CA key, or null when the key is not SM2. */
export function sm2SignerOf(key: KeyObject): Sm2Signer | null {
  let signer = sm2Signers.get(key);
  if (signer === undefined) sm2Signers.set(key, (signer = sm2SignerFromKeyObject(key)));
  return signer;
}

/**
 * The AlgorithmIdentifier of what a development CA key signs (certificates, CRLs, OCSP
 * responses): SHA-256 with RSA or ECDSA, or SM2-with-SM3 for an SM2 key. It is part of the
 * to-be-signed bytes, so it is asked for first.
 */
export function issuerSignatureAlgorithm(privateKey: KeyObject): Buffer {
  if (sm2SignerOf(privateKey)) return algorithmId(OID.sm2WithSm3);
  return privateKey.asymmetricKeyType === 'rsa' ? algorithmId(OID.sha256WithRSA, nullValue()) : algorithmId(OID.ecdsaWithSha256);
}

/** The signature over to-be-signed DER, with the algorithm `issuerSignatureAlgorithm` names (SM2: Z over the default ID). */
export function signAsIssuer(privateKey: KeyObject, tbs: Buffer): Buffer {
  const sm2 = sm2SignerOf(privateKey);
  return sm2 ? sm2.signSync(tbs) : sign('sha256', tbs, privateKey);
}

/** Whether the key is an SM2 key (so what it issues carries SM2-with-SM3). */
export const isSm2IssuerKey = (privateKey: KeyObject): boolean => sm2SignerOf(privateKey) !== null;
