import { createHash, X509Certificate } from 'node:crypto';
import { readCertFields } from '../pki/cert-fields.js';
import { certificateSignedBy } from '../pki/cert-signature.js';
import { publicKeyBits } from './ocsp.js';

/** What the status routes need of a certificate, read once per distinct certificate. */
export interface ParsedCertificate {
  der: Buffer;
  /** SHA-256 of the DER, hex: the certificate's identity in the cache. */
  derHash: string;
  x509: X509Certificate;
  subjectNameDer: Buffer;
  issuerNameDer: Buffer;
  serialHex: string;
  selfIssued: boolean;
  /** Hash of the subject public key; with the serial of a certificate it issued, that certificate's status key. */
  keyHash: string;
  /** `"subject":…,"issuer":…,"serialNumber":…` of a status answer, serialised once. */
  identityJson: string;
  /** The issuer, once its signature on this certificate was checked: a certificate has one issuing key. */
  issuer?: ParsedCertificate;
}

export class InvalidCertificateError extends Error {
  override name = 'InvalidCertificateError';
}

const sha256Hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Hash of a certificate's subject public key, as status keys use it (OCSP's issuerKeyHash notion, SHA-256). */
export function keyHashOf(certDer: Buffer): string {
  return sha256Hex(publicKeyBits(certDer)).slice(0, 32);
}

/** Parses a certificate (node:crypto and the ASN.1 reader); throws InvalidCertificateError. */
export function parseCertificate(der: Buffer, derHash = sha256Hex(der)): ParsedCertificate {
  try {
    const x509 = new X509Certificate(der);
    const fields = readCertFields(der);
    const identity = { subject: x509.subject.replace(/\n/g, ', '), issuer: x509.issuer.replace(/\n/g, ', '), serialNumber: fields.serialHex };
    return {
      der,
      derHash,
      x509,
      subjectNameDer: fields.subjectDer,
      issuerNameDer: fields.issuerDer,
      serialHex: fields.serialHex,
      selfIssued: x509.checkIssued(x509),
      keyHash: keyHashOf(der),
      identityJson: JSON.stringify(identity).slice(1, -1),
    };
  } catch (err) {
    throw new InvalidCertificateError(`the certificate cannot be parsed: ${(err as Error).message}`);
  }
}

/**
 * A small LRU of parsed certificates keyed by the hash of their DER, so a certificate asked about
 * again costs one SHA-256 and a map lookup. `parses` counts the certificates actually parsed.
 */
export class ParsedCertificates {
  private readonly entries = new Map<string, ParsedCertificate>();
  parses = 0;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly parse: (der: Buffer, derHash: string) => ParsedCertificate = parseCertificate,
  ) {}

  get(der: Buffer): ParsedCertificate {
    const derHash = sha256Hex(der);
    const known = this.entries.get(derHash);
    if (known) {
      this.entries.delete(derHash);
      this.entries.set(derHash, known);
      return known;
    }
    this.parses++;
    const parsed = this.parse(der, derHash);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(derHash, parsed);
    return parsed;
  }
}

/**
 * The issuer of `cert` among `candidates`: same name, and its key verifies the certificate's
 * signature. Remembered on the certificate, so the search and signature check happen once.
 */
export function findIssuer(cert: ParsedCertificate, candidates: Iterable<ParsedCertificate>): ParsedCertificate | undefined {
  if (cert.issuer) return cert.issuer;
  for (const candidate of candidates) {
    if (candidate.derHash === cert.derHash || !candidate.subjectNameDer.equals(cert.issuerNameDer)) continue;
    try {
      if (cert.x509.checkIssued(candidate.x509) && certificateSignedBy(cert.x509, candidate.x509)) {
        cert.issuer = candidate;
        return candidate;
      }
    } catch {
      // an unusable candidate key is simply not the issuer
    }
  }
  return undefined;
}
