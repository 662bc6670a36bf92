import { readCertFields, subjectKeyIdentifier } from '../pki/cert-fields.js';
import { contextTag, integer, octetString, oid, sequence, tlv, x509Time } from '../pki/der.js';
import type { Issued } from './issue.js';
import { issuerSignatureAlgorithm, signAsIssuer } from './issuer-signature.js';

export interface RevokedEntry {
  serialHex: string;
  revokedAt: Date;
  /** RFC 5280 CRLReason code. */
  reason?: number;
}

const time = x509Time;

const extension = (id: string, value: Buffer): Buffer => sequence(oid(id), octetString(value));

/** A DER X.509 v2 CRL signed by `issuer` (SM2-with-SM3 for an SM2 CA), with authorityKeyIdentifier and cRLNumber. */
export function buildCrl(opts: { issuer: Issued; revoked: RevokedEntry[]; thisUpdate: Date; nextUpdate: Date; crlNumber: bigint }): Buffer {
  const fields = readCertFields(opts.issuer.certDer);
  const signatureAlgorithm = issuerSignatureAlgorithm(opts.issuer.privateKey);
  const ski = subjectKeyIdentifier(fields);
  const entries = opts.revoked.map((r) =>
    sequence(
      integer(Buffer.from(r.serialHex.length % 2 ? `0${r.serialHex}` : r.serialHex, 'hex')),
      time(r.revokedAt),
      ...(r.reason !== undefined ? [sequence(extension('2.5.29.21', tlv(0x0a, Buffer.from([r.reason]))))] : []),
    ),
  );
  const extensions = [
    ...(ski ? [extension('2.5.29.35', sequence(contextTag(0, false, Buffer.from(ski, 'hex'))))] : []),
    extension('2.5.29.20', integer(opts.crlNumber)),
  ];
  const tbs = sequence(
    integer(1),
    signatureAlgorithm,
    fields.subjectDer,
    time(opts.thisUpdate),
    time(opts.nextUpdate),
    ...(entries.length ? [sequence(...entries)] : []),
    contextTag(0, true, sequence(...extensions)),
  );
  const signature = signAsIssuer(opts.issuer.privateKey, tbs);
  return sequence(tbs, signatureAlgorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}
