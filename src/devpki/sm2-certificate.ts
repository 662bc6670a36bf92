/**
 * SM2 certificates of the development PKI. WebCrypto has no SM2, so @peculiar/x509's generator
 * cannot sign them: the TBSCertificate is written here as DER, with the names and extensions
 * @peculiar/x509 encodes for the other certificates (issue.ts), and signed SM2-with-SM3 with Z
 * over the default ID, as `openssl verify` (and GM/T 0015 profiles) expect.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { bitStringBytes, decodeBer, SMALL_LIMITS } from '../pki/asn1.js';
import { readCertFields, subjectKeyIdentifier } from '../pki/cert-fields.js';
import { contextTag, integer, sequence, tlv, x509Time } from '../pki/der.js';
import { nameOf, profileExtensions, type CertificateRequest } from './certificate-profile.js';
import type { Issued } from './issue.js';
import { isSm2IssuerKey, issuerSignatureAlgorithm, signAsIssuer } from './issuer-signature.js';

/** A new SM2 private key, as node reads SM2 keys from PKCS#8 (so nothing takes it for an ECDSA key). */
export function generateSm2PrivateKey(): KeyObject {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
  return createPrivateKey({ key: privateKey.export({ format: 'der', type: 'pkcs8' }), format: 'der', type: 'pkcs8' });
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyIdentifierOf(spkiDer: Buffer): string {
  const spki = decodeBer(spkiDer, 'public key', SMALL_LIMITS) as unknown as { valueBlock: { value: Parameters<typeof bitStringBytes>[0][] } };
  return createHash('sha1').update(bitStringBytes(spki.valueBlock.value[1]!, 'public key')).digest('hex');
}

/** Issues an SM2 certificate for a new SM2 key; without `issuer` it is self-signed. The issuer must hold an SM2 key. */
export async function issueSm2Certificate(request: CertificateRequest, issuer?: Issued): Promise<Issued> {
  const privateKey = generateSm2PrivateKey();
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const signingKey = issuer?.privateKey ?? privateKey;
  if (!isSm2IssuerKey(signingKey)) throw new Error('SM2 certificates are issued by SM2 CAs only');
  const subjectKeyId = keyIdentifierOf(spki);
  const issuerFields = issuer ? readCertFields(issuer.certDer) : undefined;
  const authorityKeyId = issuerFields ? subjectKeyIdentifier(issuerFields) : subjectKeyId;
  if (!authorityKeyId) throw new Error('the issuing CA certificate has no subject key identifier');
  const extensions = profileExtensions(request, new x509.SubjectKeyIdentifierExtension(subjectKeyId), new x509.AuthorityKeyIdentifierExtension(authorityKeyId));
  const subjectName = Buffer.from(nameOf(request.subject).toArrayBuffer());
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x10; // positive, 16 bytes
  const algorithm = issuerSignatureAlgorithm(signingKey);
  const tbs = sequence(
    contextTag(0, true, integer(2)), // v3
    integer(serial),
    algorithm,
    issuerFields?.subjectDer ?? subjectName,
    sequence(x509Time(request.notBefore), x509Time(request.notAfter)),
    subjectName,
    spki,
    contextTag(3, true, sequence(...extensions.map((e) => Buffer.from(e.rawData)))),
  );
  const certDer = sequence(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signAsIssuer(signingKey, tbs)])));
  return { certDer, privateKey };
}
