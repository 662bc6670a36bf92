import { DerCache } from './der-cache.js';
import { X509Certificate } from 'node:crypto';
import { certificateSignedBy } from './cert-signature.js';
import { basicConstraints, EXT, keyUsage, readCertFields, type CertFields } from './cert-fields.js';

const MAX_PATH_LENGTH = 10;

/** Extensions this validator understands; an unknown critical extension fails the path. */
const UNDERSTOOD = new Set<string>([
  EXT.subjectKeyIdentifier,
  EXT.keyUsage,
  EXT.basicConstraints,
  EXT.authorityKeyIdentifier,
  EXT.extKeyUsage,
  EXT.crlDistributionPoints,
  EXT.authorityInfoAccess,
  EXT.ocspNoCheck,
  '2.5.29.17', // subjectAltName
  '2.5.29.32', // certificatePolicies (any policy accepted)
  '1.3.6.1.4.1.11129.2.4.2', // CT precertificate SCTs
  '1.3.6.1.5.5.7.1.3', // qcStatements
]);

export interface PathCertificate {
  der: Buffer;
  subject: string;
  issuer: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
}

export type PathStatus =
  | 'VALID'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'CHAIN_CONSTRAINTS_FAILURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID';

export interface PathResult {
  status: PathStatus;
  /** Leaf first; ends with the trust anchor when one was reached. */
  chain: PathCertificate[];
  trustAnchorReached: boolean;
  /** Certificates of the chain not valid at the validation time (by index in `chain`). */
  outOfValidity: Array<{ index: number; reason: 'expired' | 'not yet valid' }>;
  problems: string[];
}

interface Parsed {
  der: Buffer;
  x509: X509Certificate;
  fields: CertFields;
}

const parsed = new DerCache<Parsed | null>(2_000);

function parse(der: Buffer): Parsed | null {
  return parsed.get(der, () => {
    try {
      return { der, x509: new X509Certificate(der), fields: readCertFields(der) };
    } catch {
      return null;
    }
  });
}

function describe(p: Parsed): PathCertificate {
  return {
    der: p.der,
    subject: p.x509.subject.replace(/\n/g, ', '),
    issuer: p.x509.issuer.replace(/\n/g, ', '),
    serialHex: p.fields.serialHex,
    notBefore: new Date(p.x509.validFrom),
    notAfter: new Date(p.x509.validTo),
  };
}

/** Whether a certificate's signature verifies with another's key: parsed certificates are shared, so the answer is kept with them. */
const signatureChecks = new WeakMap<Parsed, WeakMap<Parsed, boolean>>();

function issuedBy(child: Parsed, parent: Parsed): boolean {
  if (!child.fields.issuerDer.equals(parent.fields.subjectDer) && !child.x509.checkIssued(parent.x509)) return false;
  let checks = signatureChecks.get(child);
  if (!checks) signatureChecks.set(child, (checks = new WeakMap()));
  let verified = checks.get(parent);
  if (verified === undefined) {
    verified = certificateSignedBy(child.x509, parent.x509);
    checks.set(parent, verified);
  }
  return verified;
}

/**
 * Builds a path from `leaf` through `pool` to one of `anchors` and validates it per RFC 5280
 * (signatures, name chaining, basic constraints and path length, key usage, critical
 * extensions) with every certificate's validity checked at `at`.
 */
export function validatePath(leafDer: Buffer, pool: Buffer[], anchorsDer: Buffer[], at: Date): PathResult {
  const leaf = parse(leafDer);
  if (!leaf) {
    return { status: 'NO_CERTIFICATE_CHAIN_FOUND', chain: [], trustAnchorReached: false, outOfValidity: [], problems: ['the signer certificate cannot be parsed'] };
  }
  const anchors = anchorsDer.map(parse).filter((p): p is Parsed => p !== null);
  const candidates = pool.map(parse).filter((p): p is Parsed => p !== null);
  const isAnchor = (p: Parsed): boolean => anchors.some((a) => a.der.equals(p.der));

  const chain: Parsed[] = [leaf];
  let reached = isAnchor(leaf);
  while (!reached && chain.length <= MAX_PATH_LENGTH) {
    const current = chain[chain.length - 1]!;
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) {
      chain.push(anchor);
      reached = true;
      break;
    }
    const next = candidates.find((c) => !chain.some((p) => p.der.equals(c.der)) && issuedBy(current, c));
    if (!next) break;
    chain.push(next);
    reached = isAnchor(next);
  }

  const problems: string[] = [];
  const outOfValidity: PathResult['outOfValidity'] = [];
  const described = chain.map(describe);
  described.forEach((cert, index) => {
    if (at < cert.notBefore) outOfValidity.push({ index, reason: 'not yet valid' });
    else if (at > cert.notAfter) outOfValidity.push({ index, reason: 'expired' });
  });
  if (!reached) {
    const last = described[described.length - 1]!;
    problems.push(`no path to a trust anchor: the chain ends at "${last.subject}", issued by "${last.issuer}"`);
    return { status: 'NO_CERTIFICATE_CHAIN_FOUND', chain: described, trustAnchorReached: false, outOfValidity, problems };
  }

  chain.forEach((cert, index) => {
    const window = described[index]!;
    if (Number.isNaN(window.notBefore.getTime()) || Number.isNaN(window.notAfter.getTime())) {
      problems.push(`"${window.subject}" has a validity period that cannot be read`);
    }
    for (const [oid, ext] of cert.fields.extensions) {
      if (ext.critical && !UNDERSTOOD.has(oid)) problems.push(`"${described[index]!.subject}" has an unsupported critical extension ${oid}`);
    }
    if (index === 0) {
      const usage = keyUsage(cert.fields);
      if (usage && !usage.has('digitalSignature') && !usage.has('nonRepudiation')) {
        problems.push('the signer certificate may not be used for signatures (key usage)');
      }
      return;
    }
    const constraints = basicConstraints(cert.fields);
    if (!constraints.ca) problems.push(`"${described[index]!.subject}" issued a certificate but is not a CA`);
    const usage = keyUsage(cert.fields);
    if (usage && !usage.has('keyCertSign')) problems.push(`"${described[index]!.subject}" may not sign certificates (key usage)`);
    const below = chain.slice(1, index).filter((c) => !c.fields.subjectDer.equals(c.fields.issuerDer)).length;
    if (constraints.pathLen !== null && below > constraints.pathLen) {
      problems.push(`"${described[index]!.subject}" allows ${constraints.pathLen} intermediate CA(s) below it, the path has ${below}`);
    }
  });

  let status: PathStatus = 'VALID';
  if (problems.length > 0) status = 'CHAIN_CONSTRAINTS_FAILURE';
  else if (outOfValidity.length > 0) {
    status = outOfValidity.some((o) => o.reason === 'expired') ? 'EXPIRED' : 'NOT_YET_VALID';
    for (const o of outOfValidity) {
      const cert = described[o.index]!;
      problems.push(`"${cert.subject}" is ${o.reason} at ${at.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
    }
  }
  return { status, chain: described, trustAnchorReached: true, outOfValidity, problems };
}
