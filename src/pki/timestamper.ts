import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { decodeBer, isParseFailure, matchSchema, rawOf, smallInteger } from './asn1.js';
import { CMS_LIMITS } from './cms-parse.js';
import { algorithmId, integer, octetString, sequence, tlv } from './der.js';
import { DIGEST_OID } from './oids.js';
import { parseTimeStampToken, verifyTimeStampToken } from './timestamp-token.js';

/** Obtains RFC 3161 timestamp tokens over digests. */
export interface Timestamper {
  timestamp(digest: Buffer, algorithm: 'sha256' | 'sha384' | 'sha512'): Promise<Buffer>;
}

export class TimestampError extends Error {
  override name = 'TimestampError';
}

/** Builds a TimeStampReq with a random nonce and certReq. */
export function timeStampRequest(digest: Buffer, algorithm: 'sha256' | 'sha384' | 'sha512'): { der: Buffer; nonce: Buffer } {
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0]! & 0x7f) | 0x01;
  const der = sequence(integer(1), sequence(algorithmId(DIGEST_OID[algorithm]), octetString(digest)), tlv(0x02, nonce), Buffer.from([0x01, 0x01, 0xff]));
  return { der, nonce };
}

/**
 * Reads a TimeStampResp: the status must be granted, and the token must answer this request
 * (same imprint, same nonce). Returns the token.
 */
export function readTimeStampResponse(response: Buffer, digest: Buffer, nonce: Buffer): Buffer {
  let status: number;
  let token: Buffer | undefined;
  try {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    const schema = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Integer({ name: 'status' })] }), new asn1js.Any({ name: 'token', optional: true })] });
    const named = matchSchema(decodeBer(response, 'TSA answer', CMS_LIMITS), schema, 'TimeStampResp');
    status = smallInteger(named.status!, 'PKI status');
    token = named.token ? rawOf(named.token) : undefined;
  } catch (err) {
    if (!isParseFailure(err)) throw err;
    throw new TimestampError('the TSA answer is not a TimeStampResp');
  }
  if (status !== 0 && status !== 1) throw new TimestampError(`the TSA refused the request (status ${status})`);
  if (!token) throw new TimestampError('the TSA granted the request but sent no token');
  const { tstInfo } = parseTimeStampToken(token);
  if (!tstInfo.imprint.equals(digest)) throw new TimestampError('the TSA timestamped another imprint');
  const check = verifyTimeStampToken(token, () => digest);
  if (check.signature.signatureValid !== true || check.signature.messageDigestMatches === false) {
    throw new TimestampError(`the TSA token does not verify: ${check.problems.join('; ')}`);
  }
  if (!tstInfo.nonceHex || BigInt(`0x${tstInfo.nonceHex}`) !== BigInt(`0x${nonce.toString('hex')}`)) {
    throw new TimestampError('the TSA answer does not carry our nonce');
  }
  return token;
}

/** A TSA reached over HTTP (RFC 3161 section 3.4), with optional basic credentials. */
export class HttpTimestamper implements Timestamper {
  constructor(
    private readonly url: string,
    private readonly options: { timeoutMs?: number; username?: string; password?: string } = {},
  ) {}

  async timestamp(digest: Buffer, algorithm: 'sha256' | 'sha384' | 'sha512'): Promise<Buffer> {
    const { der, nonce } = timeStampRequest(digest, algorithm);
    const headers: Record<string, string> = { 'content-type': 'application/timestamp-query' };
    if (this.options.username) headers.authorization = `Basic ${Buffer.from(`${this.options.username}:${this.options.password ?? ''}`).toString('base64')}`;
    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers, body: new Uint8Array(der), signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new TimestampError(`the TSA at ${this.url} cannot be reached: ${(err as Error).message}`);
    }
    if (!response.ok) throw new TimestampError(`the TSA at ${this.url} answered HTTP ${response.status}`);
    return readTimeStampResponse(Buffer.from(await response.arrayBuffer()), digest, nonce);
  }
}
