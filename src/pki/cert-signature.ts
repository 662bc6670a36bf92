/**
 * Whether a certificate's signature verifies with a would-be issuer's key. node:crypto checks
 * RSA, ECDSA and EdDSA signatures; SM2-with-SM3 signatures (Z over the default ID, as
 * `openssl x509 -sigopt distid:1234567812345678` makes them) are checked with sm2/, since
 * node neither does SM2 nor verifies such certificates.
 */
import type { X509Certificate } from 'node:crypto';
import { readCertFields } from './cert-fields.js';
import { OID } from './oids.js';
import { sm2PointOfSpki } from './sm2/sm2-keys.js';
import { sm2VerifyMessage } from './sm2/sm2-signature.js';

export function certificateSignedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    const fields = readCertFields(child.raw);
    if (fields.signatureAlgorithmOid === OID.sm2WithSm3) {
      const point = sm2PointOfSpki(readCertFields(issuer.raw).spkiDer);
      return point !== null && sm2VerifyMessage([fields.tbs], fields.signatureValue, point);
    }
    return child.verify(issuer.publicKey);
  } catch {
    return false; // an unreadable certificate or unusable key verifies nothing
  }
}
