/**
 * The parts of a certificate that path validation, signer lookup and revocation need.
 *
 * Certificates come from signatures, timestamps, OCSP responses, DSS dictionaries and uploads,
 * so they are read with pkijs (over asn1js, see asn1.ts) rather than by hand: the library checks
 * the structure against the X.509 schema, and the exact bytes of the signed parts (TBS, names,
 * key) are taken from the input as sent. Extension values are read with pkijs's classes.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { DerCache } from './der-cache.js';
import { sm2PublicKeyFromSpki } from './sm2/sm2-keys.js';
import { bitStringBytes, decodeBer, integerHex, isParseFailure, matchSchema, octetsOf, rawOf, SMALL_LIMITS, type Block } from './asn1.js';

export class CertificateError extends Error {
  override name = 'CertificateError';
}

export interface CertFields {
  tbs: Buffer;
  serialHex: string;
  issuerDer: Buffer;
  subjectDer: Buffer;
  spkiDer: Buffer;
  extensions: Map<string, { critical: boolean; value: Buffer }>;
  signatureAlgorithmOid: string;
  /** The signature's bits (the BIT STRING's contents after the unused-bits octet). */
  signatureValue: Buffer;
}

export const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const;

const MAX_EXTENSIONS = 64;

function wrap<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof CertificateError || !isParseFailure(err)) throw err;
    throw new CertificateError(`the ${what} cannot be read: ${err.message}`);
  }
}

const parsedCertificates = new DerCache<CertFields>(2_000);
const publicKeys = new DerCache<KeyObject | null>(2_000);

/**
 * The public key of a certificate (node's X.509 parser, once per distinct certificate), or null.
 * An SM2 key named by the GM/T 0006 key OIDs, which node cannot read, comes in the form it can.
 */
export function publicKeyOf(der: Buffer): KeyObject | null {
  return publicKeys.get(der, () => {
    try {
      return new X509Certificate(der).publicKey;
    } catch {
      try {
        return sm2PublicKeyFromSpki(readCertFields(der).spkiDer);
      } catch {
        return null;
      }
    }
  });
}

/** Reads a certificate (once per distinct certificate); throws CertificateError when it is not one. */
export function readCertFields(der: Buffer): CertFields {
  return parsedCertificates.get(der, () => parseCertFields(der));
}

function parseCertFields(der: Buffer): CertFields {
  return wrap('certificate', () => {
    const root = decodeBer(der, 'certificate', SMALL_LIMITS);
    const named = matchSchema(root, pkijs.Certificate.schema(), 'certificate');
    const cert = new pkijs.Certificate({ schema: root });
    const extensions = new Map<string, { critical: boolean; value: Buffer }>();
    const list = cert.extensions ?? [];
    if (list.length > MAX_EXTENSIONS) throw new CertificateError(`the certificate has more than ${MAX_EXTENSIONS} extensions`);
    for (const ext of list) {
      extensions.set(ext.extnID, { critical: ext.critical, value: octetsOf(ext.extnValue as unknown as Block, 'extension value') });
    }
    return {
      tbs: rawOf(named.tbsCertificate!),
      serialHex: integerHex(named['tbsCertificate.serialNumber']!, 'serial number'),
      issuerDer: rawOf(named['tbsCertificate.issuer']!),
      subjectDer: rawOf(named['tbsCertificate.subject']!),
      spkiDer: rawOf(named['tbsCertificate.subjectPublicKeyInfo']!),
      extensions,
      signatureAlgorithmOid: cert.signatureAlgorithm.algorithmId,
      signatureValue: Buffer.from(cert.signatureValue.valueBlock.valueHexView),
    };
  });
}

function extensionValue(fields: CertFields, id: string): Block | null {
  const ext = fields.extensions.get(id);
  return ext ? decodeBer(ext.value, `extension ${id}`, SMALL_LIMITS) : null;
}

/** Key usage bits by name (RFC 5280 4.2.1.3), or null when the extension is absent. */
const keyUsages = new WeakMap<CertFields, Set<string> | null>();
const constraints = new WeakMap<CertFields, { ca: boolean; pathLen: number | null }>();

/** Reads an extension of a (cached, shared) certificate once; a failure is not remembered. */
function once<T>(cache: WeakMap<CertFields, T>, fields: CertFields, read: () => T): T {
  if (cache.has(fields)) return cache.get(fields)!;
  const value = read();
  cache.set(fields, value);
  return value;
}

export function keyUsage(fields: CertFields): Set<string> | null {
  return once(keyUsages, fields, () => readKeyUsage(fields));
}

export function basicConstraints(fields: CertFields): { ca: boolean; pathLen: number | null } {
  return once(constraints, fields, () => readBasicConstraints(fields));
}

function readKeyUsage(fields: CertFields): Set<string> | null {
  return wrap('key usage', () => {
    const value = extensionValue(fields, EXT.keyUsage);
    if (!value) return null;
    const bits = bitStringBytes(value, 'key usage');
    const names = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
    const set = new Set<string>();
    names.forEach((name, i) => {
      const byte = bits[i >> 3];
      if (byte !== undefined && byte & (0x80 >> (i & 7))) set.add(name);
    });
    return set;
  });
}

function readBasicConstraints(fields: CertFields): { ca: boolean; pathLen: number | null } {
  return wrap('basic constraints', () => {
    const value = extensionValue(fields, EXT.basicConstraints);
    if (!value) return { ca: false, pathLen: null };
    const bc = new pkijs.BasicConstraints({ schema: value });
    const pathLen = bc.pathLenConstraint;
    if (pathLen instanceof asn1js.Integer) throw new CertificateError('the path length constraint is out of range');
    return { ca: bc.cA, pathLen: typeof pathLen === 'number' ? pathLen : null };
  });
}

export function extendedKeyUsage(fields: CertFields): string[] | null {
  return wrap('extended key usage', () => {
    const value = extensionValue(fields, EXT.extKeyUsage);
    return value ? new pkijs.ExtKeyUsage({ schema: value }).keyPurposes : null;
  });
}

export function subjectKeyIdentifier(fields: CertFields): string | null {
  return wrap('subject key identifier', () => {
    const value = extensionValue(fields, EXT.subjectKeyIdentifier);
    return value ? octetsOf(value, 'subject key identifier').toString('hex') : null;
  });
}

/** URIs of the authorityInfoAccess entries with this access method (e.g. OCSP). */
export function authorityInfoAccessUris(fields: CertFields, accessMethod: string): string[] {
  return wrap('authority information access', () => {
    const value = extensionValue(fields, EXT.authorityInfoAccess);
    if (!value) return [];
    return new pkijs.InfoAccess({ schema: value }).accessDescriptions
      .filter((d) => d.accessMethod === accessMethod && d.accessLocation.type === 6)
      .map((d) => String(d.accessLocation.value));
  });
}

/** URIs named as full names of the CRL distribution points. */
export function crlDistributionUris(fields: CertFields): string[] {
  return wrap('CRL distribution points', () => {
    const value = extensionValue(fields, EXT.crlDistributionPoints);
    if (!value) return [];
    const uris: string[] = [];
    for (const point of new pkijs.CRLDistributionPoints({ schema: value }).distributionPoints) {
      const names = point.distributionPoint;
      if (!Array.isArray(names)) continue;
      for (const name of names) if (name.type === 6) uris.push(String(name.value));
    }
    return uris;
  });
}

/** The policy identifiers of the certificatePolicies extension (RFC 5280 4.2.1.4), or null when it is absent. */
export function certificatePolicyOids(fields: CertFields): string[] | null {
  return wrap('certificate policies', () => {
    const value = extensionValue(fields, EXT.certificatePolicies);
    if (!value) return null;
    matchSchema(value, pkijs.CertificatePolicies.schema(), 'certificate policies');
    return new pkijs.CertificatePolicies({ schema: value }).certificatePolicies.map((p) => decimalArcs(p.policyIdentifier));
  });
}

/**
 * asn1js writes an arc too large for a JavaScript number (UUID arcs under 2.25 are 128-bit) as
 * `{hex}` of its base-128 digits; this writes it in decimal, as configuration files and other
 * tools do.
 */
function decimalArcs(oid: string): string {
  return oid.replace(/\{([0-9a-f]+)\}/gi, (_arc, digits: string) => [...Buffer.from(digits, 'hex')].reduce((n, digit) => n * 128n + BigInt(digit), 0n).toString());
}
