import { sign } from 'node:crypto';
import { readCertFields, subjectKeyIdentifier } from '../pki/cert-fields.js';
import { algorithmId, contextTag, integer, nullValue, octetString, oid, sequence, tlv } from '../pki/der.js';
import { OID } from '../pki/oids.js';
import type { Issued } from './issue.js';

export interface RevokedEntry {
  serialHex: string;
  revokedAt: Date;
  /** RFC 5280 CRLReason code. */
  reason?: number;
}

function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1')) : tlv(0x18, Buffer.from(digits, 'latin1'));
}

const extension = (id: string, value: Buffer): Buffer => sequence(oid(id), octetString(value));

/** A DER X.509 v2 CRL signed by `issuer`, with authorityKeyIdentifier and cRLNumber. */
export function buildCrl(opts: { issuer: Issued; revoked: RevokedEntry[]; thisUpdate: Date; nextUpdate: Date; crlNumber: bigint }): Buffer {
  const fields = readCertFields(opts.issuer.certDer);
  const rsa = opts.issuer.privateKey.asymmetricKeyType === 'rsa';
  const signatureAlgorithm = rsa ? algorithmId(OID.sha256WithRSA, nullValue()) : algorithmId(OID.ecdsaWithSha256);
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
  const signature = sign('sha256', tbs, opts.issuer.privateKey);
  return sequence(tbs, signatureAlgorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}
