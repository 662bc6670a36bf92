import { createHash } from 'node:crypto';
import { contextTag, generalizedTime, octetString, oid, sequence, tlv } from '../pki/der.js';
import { certIdFor, encodeCertId, OCSP, parseOcspRequest, publicKeyBits, type CertId } from '../revocation/ocsp.js';
import type { Issued } from './issue.js';
import { issuerSignatureAlgorithm, signAsIssuer } from './issuer-signature.js';

export type CertificateState = { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason?: number } | { status: 'unknown' };

const VALIDITY_MS = 60 * 60 * 1000;

function malformed(code: number): Buffer {
  return sequence(tlv(0x0a, Buffer.from([code])));
}

/**
 * The development CA's OCSP responder (RFC 6960): answers for certificates its CAs issued,
 * signed by a delegated responder certificate (id-kp-OCSPSigning, ocsp-nocheck).
 */
export class DevOcspResponder {
  constructor(
    private readonly responder: Issued,
    private readonly issuers: Buffer[],
    private readonly stateOf: (issuerDer: Buffer, serialHex: string) => Promise<CertificateState>,
  ) {}

  private issuerFor(id: CertId): Buffer | undefined {
    if (id.hashAlgorithm === 'unknown') return undefined;
    return this.issuers.find((issuer) => {
      const expected = certIdFor(issuer, issuer, id.hashAlgorithm);
      return expected.issuerNameHash.equals(id.issuerNameHash) && expected.issuerKeyHash.equals(id.issuerKeyHash);
    });
  }

  /** Whether every certificate of the request was issued by one of this responder's CAs. */
  answersFor(request: Buffer): boolean {
    try {
      const ids = parseOcspRequest(request).certIds;
      return ids.length > 0 && ids.every((id) => this.issuerFor(id) !== undefined);
    } catch {
      return false;
    }
  }

  async respond(request: Buffer): Promise<Buffer> {
    let ids: CertId[];
    let nonce: Buffer | undefined;
    try {
      ({ certIds: ids, nonce } = parseOcspRequest(request));
      if (ids.length === 0 || ids.length > 20) return malformed(1);
    } catch {
      return malformed(1);
    }
    const now = new Date();
    const singles: Buffer[] = [];
    for (const id of ids) {
      const issuer = this.issuerFor(id);
      const state: CertificateState = issuer ? await this.stateOf(issuer, id.serialHex) : { status: 'unknown' };
      const status =
        state.status === 'good'
          ? Buffer.from([0x80, 0x00])
          : state.status === 'revoked'
            ? contextTag(1, true, generalizedTime(state.revokedAt), ...(state.reason !== undefined ? [contextTag(0, true, tlv(0x0a, Buffer.from([state.reason])))] : []))
            : Buffer.from([0x82, 0x00]);
      singles.push(sequence(encodeCertId(id), status, generalizedTime(now), contextTag(0, true, generalizedTime(new Date(now.getTime() + VALIDITY_MS)))));
    }
    const responderKeyHash = createHash('sha1').update(publicKeyBits(this.responder.certDer)).digest();
    const extensions = nonce ? [contextTag(1, true, sequence(sequence(oid(OCSP.nonce), octetString(nonce))))] : [];
    const tbs = sequence(contextTag(2, true, octetString(responderKeyHash)), generalizedTime(now), sequence(...singles), ...extensions);
    const signatureAlgorithm = issuerSignatureAlgorithm(this.responder.privateKey);
    const signature = signAsIssuer(this.responder.privateKey, tbs);
    const basic = sequence(tbs, signatureAlgorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])), contextTag(0, true, sequence(this.responder.certDer)));
    return sequence(tlv(0x0a, Buffer.from([0])), contextTag(0, true, sequence(oid(OCSP.basic), octetString(basic))));
  }
}
