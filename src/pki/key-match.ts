import { constants, randomBytes, verify, X509Certificate } from 'node:crypto';
import { pssSaltLength } from './signature-algorithm.js';
import type { Signer } from './signer.js';
import { readCertFields } from './cert-fields.js';
import { sm2PointOfSpki } from './sm2/sm2-keys.js';
import { sm2VerifyMessage } from './sm2/sm2-signature.js';

/**
 * Whether the signer's private key belongs to the certificate: a fresh random probe is signed
 * and verified with the certificate's public key. This works for keys that cannot be read,
 * whatever public objects a token keeps beside them.
 */
export async function signerMatchesCertificate(signer: Signer, certDer: Buffer): Promise<boolean> {
  const probe = randomBytes(32);
  if (signer.key.kind === 'sm2') {
    const point = sm2PointOfSpki(readCertFields(certDer).spkiDer);
    return point !== null && sm2VerifyMessage([probe], await signer.sign(probe, 'sm3'), point);
  }
  const signature = await signer.sign(probe, 'sha256');
  const key = new X509Certificate(certDer).publicKey;
  if (signer.key.kind === 'rsa' && signer.key.padding === 'pss') {
    return verify('sha256', probe, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pssSaltLength('sha256') }, signature);
  }
  return verify('sha256', probe, key, signature);
}
