import { createHash } from 'node:crypto';
import { authorityInfoAccessUris, crlDistributionUris, EXT, readCertFields } from '../pki/cert-fields.js';
import { OID } from '../pki/oids.js';
import { validatePath, type PathCertificate } from '../pki/path-validate.js';
import { Asn1Error } from '../pki/asn1.js';
import { looksLikeSesSignature, parseSesSignature } from '../pki/ses/ses-parse.js';
import { CmsError, parseSignedData } from '../pki/signed-data.js';
import type { EvidenceSource } from './levels.js';
import type { SignatureValidationData } from './ltv.js';

const OCSP_ACCESS_METHOD = '1.3.6.1.5.5.7.48.1';

/** A certificate for which no revocation data (neither OCSP response nor CRL) could be had. */
export interface MissingEvidence {
  subject: string;
  issuer: string;
  /** Hexadecimal, as in the certificate. */
  serialNumber: string;
  reason: string;
}

export interface GatheredEvidence {
  /** One per signature or timestamp, with its /Contents (for its /VRI entry). */
  items: SignatureValidationData[];
  /** Each certificate without revocation data once, whichever signatures need it. */
  missing: MissingEvidence[];
}

/** Certificates of a time-stamp token, or none when it cannot be read. */
function tokenCertificates(token: Buffer): Buffer[] {
  try {
    return parseSignedData(token).certificates;
  } catch (err) {
    if (!(err instanceof CmsError)) throw err;
    return []; // a broken token adds no certificates
  }
}

/** A GB/T 38540 signature's certificates: the signer's, the seal maker's, its time stamp's. */
function sesCertificates(contents: Buffer): Buffer[][] | undefined {
  try {
    const ses = parseSesSignature(contents, true);
    return [[ses.signerCertificate], [ses.seal.makerCertificate], ...(ses.timeStamp ? [tokenCertificates(ses.timeStamp)] : [])];
  } catch (err) {
    if (err instanceof Asn1Error) return undefined;
    throw err;
  }
}

/**
 * The certificates a signature carries: its CMS certificates and those of its signature
 * timestamps (for a document timestamp, the token's), or a GB/T 38540 signature's. Undefined
 * when the signature cannot be read.
 */
export function certificatesOf(contents: Buffer): Buffer[][] | undefined {
  if (looksLikeSesSignature(contents)) return sesCertificates(contents);
  try {
    const signedData = parseSignedData(contents);
    const groups = [signedData.certificates];
    for (const signer of signedData.signers) {
      for (const token of signer.unsignedAttrs.get(OID.signatureTimeStampToken) ?? []) groups.push(tokenCertificates(token.raw));
    }
    return groups;
  } catch (err) {
    if (err instanceof CmsError) return undefined;
    throw err;
  }
}

const key = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

function noCheck(certDer: Buffer): boolean {
  try {
    return readCertFields(certDer).extensions.has(EXT.ocspNoCheck);
  } catch {
    return false;
  }
}

function whyMissing(certDer: Buffer): string {
  let ocsp: string[] = [];
  let crl: string[] = [];
  try {
    const fields = readCertFields(certDer);
    ocsp = authorityInfoAccessUris(fields, OCSP_ACCESS_METHOD);
    crl = crlDistributionUris(fields);
  } catch {
    return 'the certificate cannot be read';
  }
  if (ocsp.length === 0 && crl.length === 0) return 'the certificate names neither an OCSP responder nor a CRL distribution point';
  const where = [...ocsp.map((u) => `OCSP ${u}`), ...crl.map((u) => `CRL ${u}`)].join(', ');
  return `no valid OCSP response or CRL could be fetched (${where})`;
}

const describe = (cert: PathCertificate, reason: string): MissingEvidence => ({ subject: cert.subject, issuer: cert.issuer, serialNumber: cert.serialHex, reason });

/**
 * Fetches the validation data of the given signatures (their /Contents as stored): for every
 * certificate they carry, its path to a trust anchor, and an OCSP response and the CRL for
 * each certificate of the path below the anchor (certificates with id-pkix-ocsp-nocheck need
 * none). A certificate for which neither can be had is reported in `missing`, as is one whose
 * issuer is not known. Each certificate is asked about once.
 */
export async function gatherEvidence(signatures: Buffer[], source: EvidenceSource, at = new Date()): Promise<GatheredEvidence> {
  const fetched = new Map<string, { crls: Buffer[]; ocsps: Buffer[] }>();
  const missing = new Map<string, MissingEvidence>();
  const items: SignatureValidationData[] = [];
  for (const contents of signatures) {
    const groups = certificatesOf(contents) ?? [];
    const item: Required<SignatureValidationData> = { contents, certificates: [], crls: [], ocspResponses: [] };
    for (const group of groups) {
      for (const cert of group) {
        const path = validatePath(cert, [...group, ...source.intermediates], source.trustAnchors, at);
        const chain = path.chain;
        item.certificates.push(...chain.map((c) => c.der));
        const last = chain[chain.length - 1];
        if (!path.trustAnchorReached && last && last.subject !== last.issuer && !missing.has(key(last.der))) {
          missing.set(key(last.der), describe(last, `its issuer certificate was not found: the path does not reach a trust anchor`));
        }
        for (let i = 0; i + 1 < chain.length; i++) {
          const subject = chain[i]!;
          if (noCheck(subject.der)) continue;
          const id = key(subject.der);
          let answer = fetched.get(id);
          if (!answer) {
            const pair = [subject.der, chain[i + 1]!.der];
            answer = { ocsps: await source.ocspsFor(pair), crls: await source.crlsFor(pair) };
            fetched.set(id, answer);
            if (answer.ocsps.length === 0 && answer.crls.length === 0) missing.set(id, describe(subject, whyMissing(subject.der)));
          }
          item.ocspResponses.push(...answer.ocsps);
          item.crls.push(...answer.crls);
        }
      }
    }
    items.push(item);
  }
  return { items, missing: [...missing.values()] };
}
