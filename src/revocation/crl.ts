import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { children, decodeOid, readNode, type DerNode } from '../pki/der.js';
import { OID } from '../pki/oids.js';

export class CrlError extends Error {
  override name = 'CrlError';
}

export interface ParsedCrl {
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** Revoked serials (lower-case hex, no leading zeros) with their revocation time and reason. */
  revoked: Map<string, { revokedAt: Date; reason: number | null }>;
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
}

function time(node: DerNode): Date {
  const text = node.content.toString('latin1');
  if (node.tag === 0x17) {
    const yy = Number(text.slice(0, 2));
    return new Date(`${yy < 50 ? 20 : 19}${text.slice(0, 2)}-${text.slice(2, 4)}-${text.slice(4, 6)}T${text.slice(6, 8)}:${text.slice(8, 10)}:${text.slice(10, 12)}Z`);
  }
  if (node.tag === 0x18) return new Date(`${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}Z`);
  throw new CrlError('bad time in CRL');
}

const serialHex = (node: DerNode): string => node.content.toString('hex').replace(/^(00)+(?=.)/, '');

/** Parses a DER CRL once and indexes its entries, so a large CRL is not re-read per question. */
export function parseCrl(der: Buffer): ParsedCrl {
  try {
    const [tbsNode, sigAlg, sigValue] = children(readNode(der));
    if (!tbsNode || !sigAlg || !sigValue) throw new CrlError('not a CRL');
    const fields = children(tbsNode);
    let i = fields[0]?.tag === 0x02 ? 1 : 0;
    i++; // signature algorithm
    const issuer = fields[i++]!;
    const thisUpdate = time(fields[i++]!);
    let nextUpdate: Date | null = null;
    if (fields[i] && (fields[i]!.tag === 0x17 || fields[i]!.tag === 0x18)) nextUpdate = time(fields[i++]!);
    const revoked = new Map<string, { revokedAt: Date; reason: number | null }>();
    if (fields[i]?.tag === 0x30) {
      for (const entry of children(fields[i]!)) {
        const [serial, date, exts] = children(entry);
        let reason: number | null = null;
        if (exts) {
          for (const ext of children(exts)) {
            const parts = children(ext);
            if (decodeOid(parts[0]!) === '2.5.29.21') reason = readNode(parts[parts.length - 1]!.content).content[0] ?? null;
          }
        }
        revoked.set(serialHex(serial!), { revokedAt: time(date!), reason });
      }
    }
    return {
      issuerDer: issuer.raw,
      thisUpdate,
      nextUpdate,
      revoked,
      tbs: tbsNode.raw,
      signatureAlgorithm: decodeOid(children(sigAlg)[0]!),
      signature: sigValue.content.subarray(1),
    };
  } catch (err) {
    if (err instanceof CrlError) throw err;
    throw new CrlError(`the CRL cannot be parsed: ${(err as Error).message}`);
  }
}

const HASH_OF: Record<string, string> = {
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
  '1.2.840.113549.1.1.5': 'sha1',
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
};

/** Whether `issuerDer` signed this CRL. */
export function crlSignedBy(crl: ParsedCrl, issuerDer: Buffer): boolean {
  const hash = HASH_OF[crl.signatureAlgorithm];
  if (!hash) return false;
  try {
    const issuer = new X509Certificate(issuerDer);
    return verify(hash, crl.tbs, createPublicKey(issuer.publicKey.export({ format: 'pem', type: 'spki' })), crl.signature);
  } catch {
    return false;
  }
}
