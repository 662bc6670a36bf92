/**
 * Certificate revocation lists (RFC 5280 section 5), read with pkijs's CertificateRevocationList
 * over asn1js (bounded; any valid BER length forms accepted); the signed bytes (tbsCertList, in DER) and
 * the issuer name are taken from the input. Signatures are checked with node:crypto
 * (signature-schemes.ts).
 */
import * as pkijs from 'pkijs';
import { bitStringBytes, decodeBer, integerHex, isParseFailure, matchSchema, octetsOf, smallInteger, SMALL_LIMITS, toDer, type Block } from '../pki/asn1.js';
import { publicKeyOf } from '../pki/cert-fields.js';
import { isUnsupported, resolveScheme, verifyWithScheme } from '../pki/signature-schemes.js';

export class CrlError extends Error {
  override name = 'CrlError';
}

/** A large CA's CRL can hold hundreds of thousands of entries (about 8 elements each). */
const CRL_LIMITS = { maxBytes: 20 * 1024 * 1024, maxNodes: 4_000_000 } as const;
const REASON_CODE = '2.5.29.21';

export interface ParsedCrl {
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** Revoked serials (lower-case hex, no leading zeros) with their revocation time and reason. */
  revoked: Map<string, { revokedAt: Date; reason: number | null }>;
  tbs: Buffer;
  signatureAlgorithm: string;
  signatureAlgorithmParams?: Block;
  signature: Buffer;
}

function reasonOf(entry: pkijs.RevokedCertificate): number | null {
  const ext = entry.crlEntryExtensions?.extensions.find((e) => e.extnID === REASON_CODE);
  if (!ext) return null;
  return smallInteger(decodeBer(octetsOf(ext.extnValue as Block, 'reason code'), 'reason code', SMALL_LIMITS), 'reason code');
}

/** Parses a CRL once and indexes its entries, so a large CRL is not re-read per question. */
export function parseCrl(der: Buffer): ParsedCrl {
  try {
    const root = decodeBer(der, 'CRL', CRL_LIMITS);
    const named = matchSchema(root, pkijs.CertificateRevocationList.schema(), 'CRL');
    const crl = new pkijs.CertificateRevocationList({ schema: root });
    const revoked = new Map<string, { revokedAt: Date; reason: number | null }>();
    for (const entry of crl.revokedCertificates ?? []) {
      revoked.set(integerHex(entry.userCertificate, 'revoked serial number'), { revokedAt: entry.revocationDate.value, reason: reasonOf(entry) });
    }
    return {
      issuerDer: Buffer.from(crl.issuer.valueBeforeDecode),
      thisUpdate: crl.thisUpdate.value,
      nextUpdate: crl.nextUpdate?.value ?? null,
      revoked,
      // The signature is over the DER encoding of tbsCertList (the bytes sent, when they are DER).
      tbs: toDer(named.tbsCertList!),
      signatureAlgorithm: crl.signatureAlgorithm.algorithmId,
      signatureAlgorithmParams: crl.signatureAlgorithm.algorithmParams as Block | undefined,
      signature: bitStringBytes(crl.signatureValue, 'CRL signature'),
    };
  } catch (err) {
    if (err instanceof CrlError) throw err;
    if (isParseFailure(err)) throw new CrlError(`the CRL cannot be parsed: ${err.message}`);
    throw err;
  }
}

/** Whether `issuerDer` signed this CRL. */
export function crlSignedBy(crl: ParsedCrl, issuerDer: Buffer): boolean {
  const scheme = resolveScheme(crl.signatureAlgorithm, crl.signatureAlgorithmParams, '');
  if (isUnsupported(scheme)) return false;
  try {
    const key = publicKeyOf(issuerDer);
    return key !== null && verifyWithScheme([crl.tbs], key, scheme, crl.signature);
  } catch {
    return false;
  }
}
