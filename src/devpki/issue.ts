import 'reflect-metadata';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

import { NODE_CURVES } from '../pki/key-object-signer.js';
import { certificateSubject } from '../seals/certificate-subject.js';
import type { SealType } from '../seals/seal-types.js';
import { DEV_SEAL_TYPE_POLICY } from './seal-policies.js';
import { nameOf, profileExtensions, type CertificateRequest, type KeyKind } from './certificate-profile.js';
import { issueSm2Certificate } from './sm2-certificate.js';

export type { CertificateRequest, KeyKind } from './certificate-profile.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);


/** A certificate with its private key. */
export interface Issued {
  certDer: Buffer;
  privateKey: KeyObject;
}

interface KeyPairWithCrypto {
  cryptoKeys: CryptoKeyPair;
  algorithm: RsaHashedKeyGenParams | EcKeyGenParams;
}

const EKU = {
  emailProtection: '1.3.6.1.5.5.7.3.4',
  documentSigning: '1.3.6.1.5.5.7.3.36',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

export const EXTENDED_KEY_USAGE = EKU;

async function generate(kind: KeyKind): Promise<KeyPairWithCrypto> {
  const algorithm: RsaHashedKeyGenParams | EcKeyGenParams =
    kind === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
      : { name: 'ECDSA', namedCurve: kind === 'ec384' ? 'P-384' : 'P-256' };
  const cryptoKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { cryptoKeys, algorithm };
}

async function toKeyObject(key: CryptoKey): Promise<KeyObject> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

async function importSigningKey(issued: Issued): Promise<{ key: CryptoKey; algorithm: Algorithm & { hash?: string } }> {
  const der = issued.privateKey.export({ format: 'der', type: 'pkcs8' });
  if (issued.privateKey.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']), algorithm };
  }
  const curve = issued.privateKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
  const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
  return { key, algorithm: { name: 'ECDSA', hash: 'SHA-256' } };
}



/** Issues a certificate; without `issuer` it is self-signed. SM2 certificates come from sm2-certificate.ts. */
export async function issueCertificate(request: CertificateRequest, issuer?: Issued): Promise<Issued> {
  if (request.keyKind === 'sm2') return issueSm2Certificate(request, issuer);
  const { cryptoKeys } = await generate(request.keyKind);
  const signing = issuer
    ? await importSigningKey(issuer)
    : {
        key: cryptoKeys.privateKey,
        algorithm: request.keyKind === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' },
      };
  const certDer = await certify(request, cryptoKeys.publicKey, signing, issuer);
  return { certDer, privateKey: await toKeyObject(cryptoKeys.privateKey) };
}

/** Imports a subject public key (SPKI DER) for certifying; the algorithm only labels the key. */
async function importSubjectKey(spkiDer: Buffer): Promise<CryptoKey> {
  const key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  const algorithm =
    key.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: NODE_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'P-256' };
  return webcrypto.subtle.importKey('spki', spkiDer, algorithm, true, ['verify']);
}

/** Issues a certificate for a key held elsewhere (for example in an HSM): returns only the certificate. */
export async function issueCertificateForKey(request: Omit<CertificateRequest, 'keyKind'>, spkiDer: Buffer, issuer: Issued): Promise<Buffer> {
  return certify(request, await importSubjectKey(spkiDer), await importSigningKey(issuer), issuer);
}

async function certify(
  request: Omit<CertificateRequest, 'keyKind'>,
  subjectKey: CryptoKey,
  signing: { key: CryptoKey; algorithm: Algorithm & { hash?: string } },
  issuer: Issued | undefined,
): Promise<Buffer> {
  const subjectName = nameOf(request.subject);
  const issuerCert = issuer ? new x509.X509Certificate(new Uint8Array(issuer.certDer)) : undefined;
  const extensions = profileExtensions(
    request,
    await x509.SubjectKeyIdentifierExtension.create(subjectKey),
    issuerCert ? await x509.AuthorityKeyIdentifierExtension.create(issuerCert, false) : await x509.AuthorityKeyIdentifierExtension.create(subjectKey, false),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x10; // positive, 16 bytes
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: subjectName,
    issuer: issuerCert ? issuerCert.subjectName : subjectName,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    signingAlgorithm: signing.algorithm,
    publicKey: subjectKey,
    signingKey: signing.key,
    extensions,
  });
  return Buffer.from(cert.rawData);
}


export const KEY_USAGE = x509.KeyUsageFlags;

const YEAR = 365 * 24 * 3600 * 1000;

export function validityYears(years: number, from = new Date()): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(from.getTime() - 60_000);
  return { notBefore, notAfter: new Date(from.getTime() + years * YEAR) };
}

export interface SealCertificateRequest {
  orgName: string;
  uscc: string;
  sealName: string;
  keyKind: KeyKind;
  baseUrl: string;
  notBefore?: Date;
  notAfter?: Date;
  /**
   * The seal types the certificate is issued for, each written as its development policy
   * (devpki/seal-policies.ts); without any the certificate has no certificatePolicies extension
   * and, under the built-in mapping, cannot be registered as a seal.
   */
  sealTypes?: SealType[];
}

/** Where the issuing CA publishes: `seal-ca` (RSA) or `sm2-seal-ca` (SM2) under /pki. */
export type SealCaName = 'seal-ca' | 'sm2-seal-ca';

function sealProfile(request: { baseUrl: string; notBefore?: Date; notAfter?: Date; sealTypes?: SealType[] }, caName: SealCaName = 'seal-ca'): Omit<CertificateRequest, 'keyKind' | 'subject'> {
  const validity = validityYears(3);
  return {
    policies: (request.sealTypes ?? []).map((type) => DEV_SEAL_TYPE_POLICY[type]),
    notBefore: request.notBefore ?? validity.notBefore,
    notAfter: request.notAfter ?? validity.notAfter,
    keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
    extendedKeyUsage: { usages: [EKU.emailProtection, EKU.documentSigning], critical: false },
    ocspUrl: `${request.baseUrl}/ocsp`,
    caIssuersUrl: `${request.baseUrl}/pki/${caName}.cer`,
    crlUrl: `${request.baseUrl}/pki/${caName}.crl`,
  };
}

/** A seal certificate as NSS/pdfsig and ETSI validators expect of a signer; an SM2 one comes from the SM2 seal CA. */
export function issueSealCertificate(request: SealCertificateRequest, sealCa: Issued): Promise<Issued> {
  return issueCertificate({ ...sealProfile(request, request.keyKind === 'sm2' ? 'sm2-seal-ca' : 'seal-ca'), subject: certificateSubject(request.orgName, request.uscc, request.sealName), keyKind: request.keyKind }, sealCa);
}

/** A certificate request the development CA refuses: unreadable, or not signed by its own key. */
export class CertificateRequestError extends Error {
  override name = 'CertificateRequestError';
}

/**
 * What the development CA does with a certificate request: checks its signature (proof that
 * the requester holds the key) and issues a seal certificate with the request's subject for the
 * seal types the CA decides (not the requester).
 */
export async function issueSealCertificateFromCsr(csrDer: Buffer, request: { baseUrl: string; sealTypes: SealType[] }, sealCa: Issued): Promise<Buffer> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(new Uint8Array(csrDer));
  } catch (err) {
    throw new CertificateRequestError(`the certificate request cannot be read: ${(err as Error).message}`);
  }
  if (!(await csr.verify().catch(() => false))) throw new CertificateRequestError('the certificate request is not signed by its own key');
  const subject = csr.subjectName.toJSON().flatMap((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((value): [string, string] => [type, value])));
  return issueCertificateForKey({ ...sealProfile(request), subject }, Buffer.from(csr.publicKey.rawData), sealCa);
}
