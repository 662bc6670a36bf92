import 'reflect-metadata';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

import { NODE_CURVES } from '../pki/key-object-signer.js';
import { certificateSubject } from '../seals/certificate-subject.js';
import type { SealType } from '../seals/image.js';
import { DEV_SEAL_TYPE_POLICY } from './seal-policies.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyKind = 'rsa' | 'ec' | 'ec384';

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

export interface CertificateRequest {
  /** RFC 4514-style subject, or a list of [attribute type or OID, value] pairs (UTF-8 text allowed). */
  subject: Array<[string, string]>;
  keyKind: KeyKind;
  notBefore: Date;
  notAfter: Date;
  ca?: { pathLength?: number };
  keyUsage: number;
  extendedKeyUsage?: { usages: string[]; critical: boolean };
  ocspUrl?: string;
  caIssuersUrl?: string;
  crlUrl?: string;
  ocspNoCheck?: boolean;
  /** Certificate policy OIDs (certificatePolicies, not critical); none: no such extension. */
  policies?: string[];
}

function nameOf(subject: Array<[string, string]>): x509.Name {
  return new x509.Name(subject.map(([type, value]) => ({ [type]: [value] })) as x509.JsonName);
}

/** Issues a certificate; without `issuer` it is self-signed. */
export async function issueCertificate(request: CertificateRequest, issuer?: Issued): Promise<Issued> {
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
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(request.ca !== undefined, request.ca?.pathLength, request.ca !== undefined),
    new x509.KeyUsagesExtension(request.keyUsage, true),
    await x509.SubjectKeyIdentifierExtension.create(subjectKey),
  ];
  if (issuerCert) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerCert, false));
  else extensions.push(await x509.AuthorityKeyIdentifierExtension.create(subjectKey, false));
  if (request.extendedKeyUsage) extensions.push(new x509.ExtendedKeyUsageExtension(request.extendedKeyUsage.usages, request.extendedKeyUsage.critical));
  if (request.ocspUrl || request.caIssuersUrl) {
    extensions.push(
      new x509.AuthorityInfoAccessExtension({
        ...(request.ocspUrl ? { ocsp: [request.ocspUrl] } : {}),
        ...(request.caIssuersUrl ? { caIssuers: [request.caIssuersUrl] } : {}),
      }),
    );
  }
  if (request.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([request.crlUrl]));
  if (request.policies?.length) extensions.push(new x509.CertificatePolicyExtension(request.policies, false));
  if (request.ocspNoCheck) extensions.push(new x509.Extension('1.3.6.1.5.5.7.48.1.5', false, new Uint8Array([0x05, 0x00])));
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

function sealProfile(request: { baseUrl: string; notBefore?: Date; notAfter?: Date; sealTypes?: SealType[] }): Omit<CertificateRequest, 'keyKind' | 'subject'> {
  const validity = validityYears(3);
  return {
    policies: (request.sealTypes ?? []).map((type) => DEV_SEAL_TYPE_POLICY[type]),
    notBefore: request.notBefore ?? validity.notBefore,
    notAfter: request.notAfter ?? validity.notAfter,
    keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
    extendedKeyUsage: { usages: [EKU.emailProtection, EKU.documentSigning], critical: false },
    ocspUrl: `${request.baseUrl}/ocsp`,
    caIssuersUrl: `${request.baseUrl}/pki/seal-ca.cer`,
    crlUrl: `${request.baseUrl}/pki/seal-ca.crl`,
  };
}

/** A seal certificate as NSS/pdfsig and ETSI validators expect of a signer. */
export function issueSealCertificate(request: SealCertificateRequest, sealCa: Issued): Promise<Issued> {
  return issueCertificate({ ...sealProfile(request), subject: certificateSubject(request.orgName, request.uscc, request.sealName), keyKind: request.keyKind }, sealCa);
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
