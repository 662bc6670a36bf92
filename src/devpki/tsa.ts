import { createHash } from 'node:crypto';
import { PadesCmsBuilder } from '../pki/cms-signer.js';
import * as pkijs from 'pkijs';
import { contentsOf, decodeBer, octetsOf, SMALL_LIMITS, type Block } from '../pki/asn1.js';
import { generalizedTime, integer, oid, sequence, tlv, algorithmId, octetString } from '../pki/der.js';
import { KeyObjectSigner } from '../pki/key-object-signer.js';
import { sm2SignerOf } from './issuer-signature.js';
import { OID } from '../pki/oids.js';
import type { Timestamper } from '../pki/timestamper.js';
import type { Issued } from './issue.js';

const DIGEST_OIDS: Record<string, string> = { sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };
const DIGEST_BY_OID: Record<string, string> = Object.fromEntries(Object.entries(DIGEST_OIDS).map(([k, v]) => [v, k]));
const DIGEST_LENGTH: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** PKIFailureInfo bits (RFC 3161): badAlg 0, badRequest 2, badDataFormat 5. */
const FAIL = { badAlg: 0, badRequest: 2, badDataFormat: 5 } as const;

export const DEV_TSA_POLICY = '1.3.6.1.4.1.55555.1.1';

function failure(bit: number, text: string): Buffer {
  const bits = Buffer.alloc(1);
  bits[0] = 0x80 >> bit;
  const statusInfo = sequence(integer(2), sequence(tlv(0x0c, Buffer.from(text, 'utf8'))), tlv(0x03, Buffer.concat([Buffer.from([7 - bit]), bits])));
  return sequence(statusInfo);
}

/**
 * The development RFC 3161 time-stamping authority of the embedded default. Tokens carry the
 * TSA certificate (and its CA) when asked, a signing-certificate-v2 reference, and the nonce.
 */
export class DevTimeStampAuthority implements Timestamper {
  private readonly builder: PadesCmsBuilder;
  private serial = BigInt(Date.now()) * 1000n;

  constructor(
    tsa: Issued,
    chainDer: Buffer[],
    private readonly policy = DEV_TSA_POLICY,
  ) {
    // An SM2 TSA signs SM2 with SM3 (the builder then digests with SM3).
    const signer = sm2SignerOf(tsa.privateKey) ?? new KeyObjectSigner(tsa.privateKey);
    this.builder = new PadesCmsBuilder([tsa.certDer, ...chainDer], signer, { contentType: OID.tstInfo });
  }

  async timestamp(digest: Buffer, algorithm: string, nonce?: Buffer): Promise<Buffer> {
    const algOid = DIGEST_OIDS[algorithm];
    if (!algOid || digest.length !== DIGEST_LENGTH[algorithm]) throw new Error(`cannot timestamp a ${algorithm} digest of ${digest.length} bytes`);
    this.serial += 1n;
    const tstInfo = sequence(
      integer(1),
      oid(this.policy),
      sequence(algorithmId(algOid), octetString(digest)),
      integer(this.serial),
      generalizedTime(new Date()),
      sequence(integer(1)), // accuracy: 1 second
      ...(nonce ? [tlv(0x02, nonce)] : []),
    );
    const { encode } = await this.builder.sign(createHash(this.builder.digest).update(tstInfo).digest(), tstInfo);
    return encode();
  }

  /** Answers a DER TimeStampReq with a DER TimeStampResp (rejections included, never a throw). */
  async respond(request: Buffer): Promise<Buffer> {
    let algorithm: string | undefined;
    let digest: Buffer;
    let nonce: Buffer | undefined;
    try {
      const req = new pkijs.TimeStampReq({ schema: decodeBer(request, 'TimeStampReq', SMALL_LIMITS) });
      algorithm = DIGEST_BY_OID[req.messageImprint.hashAlgorithm.algorithmId];
      digest = octetsOf(req.messageImprint.hashedMessage as Block, 'message imprint');
      nonce = req.nonce ? contentsOf(req.nonce) : undefined;
    } catch {
      return failure(FAIL.badDataFormat, 'the request is not a DER TimeStampReq');
    }
    if (!algorithm) return failure(FAIL.badAlg, 'unsupported hash algorithm');
    if (digest.length !== DIGEST_LENGTH[algorithm]) return failure(FAIL.badRequest, 'the message imprint has the wrong length');
    const token = await this.timestamp(digest, algorithm, nonce);
    return sequence(sequence(integer(0)), token);
  }

}

