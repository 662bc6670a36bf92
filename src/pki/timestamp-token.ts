/**
 * RFC 3161 timestamp tokens: CMS SignedData (cms-parse.ts, BER accepted) over a TSTInfo, which
 * is read with pkijs's TSTInfo class; the genTime is taken from the element itself (UTC, with
 * optional fractions) rather than from pkijs's Date conversion.
 */
import * as pkijs from 'pkijs';
import { decodeBer, integerHex, isParseFailure, matchSchema, SMALL_LIMITS, timeOf } from './asn1.js';
import { extendedKeyUsage, readCertFields } from './cert-fields.js';
import { DIGEST_BY_OID, digestOf } from './digests.js';
import { OID } from './oids.js';
import { CmsError, contentOf, parseSignedData, verifySignerInfo, type ParsedSignedData, type SignerVerification } from './signed-data.js';

const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export interface TstInfo {
  policy: string;
  /** Digest name, or 'unknown'. */
  imprintAlgorithm: string;
  imprint: Buffer;
  serialHex: string;
  genTime: Date;
  /** The nonce as unsigned hex without leading zeros, when the TSA echoed one. */
  nonceHex: string | undefined;
}

export interface TimestampVerification {
  genTime: Date;
  imprintMatches: boolean;
  signature: SignerVerification;
  tsaCertificate: Buffer | null;
  tsaCertHasTimeStampingEku: boolean;
  problems: string[];
}

function readTstInfo(bytes: Buffer): TstInfo {
  const root = decodeBer(bytes, 'TSTInfo', SMALL_LIMITS);
  const named = matchSchema(root, pkijs.TSTInfo.schema(), 'TSTInfo');
  const info = new pkijs.TSTInfo({ schema: root });
  return {
    policy: info.policy,
    imprintAlgorithm: DIGEST_BY_OID[info.messageImprint.hashAlgorithm.algorithmId] ?? 'unknown',
    imprint: Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView),
    serialHex: integerHex(info.serialNumber, 'timestamp serial number'),
    genTime: timeOf(named['TSTInfo.genTime']!, 'genTime'),
    nonceHex: info.nonce ? integerHex(info.nonce, 'timestamp nonce') : undefined,
  };
}

export function parseTimeStampToken(der: Buffer): { tstInfo: TstInfo; signedData: ParsedSignedData } {
  const signedData = parseSignedData(der);
  if (signedData.eContentType !== OID.tstInfo || !signedData.encapsulatedContent) throw new CmsError('NOT_SIGNED_DATA', 'not a timestamp token (no TSTInfo)');
  try {
    return { tstInfo: readTstInfo(signedData.encapsulatedContent), signedData };
  } catch (err) {
    if (isParseFailure(err)) throw new CmsError('MALFORMED', `the timestamp token is malformed: ${err.message}`);
    throw err;
  }
}

/**
 * Verifies an RFC 3161 token: its CMS signature over the TSTInfo, and that its message imprint
 * is the digest of what it claims to timestamp (`imprintDigest(alg)`).
 */
export function verifyTimeStampToken(der: Buffer, imprintDigest: (algorithm: string) => Buffer, extraCertificates: Buffer[] = []): TimestampVerification {
  const { tstInfo, signedData } = parseTimeStampToken(der);
  const signature = verifySignerInfo(signedData, signedData.signers[0]!, contentOf([signedData.encapsulatedContent!]), extraCertificates);
  const problems = [...signature.problems];
  const imprintMatches = tstInfo.imprintAlgorithm !== 'unknown' && tstInfo.imprint.equals(imprintDigest(tstInfo.imprintAlgorithm));
  if (!imprintMatches) problems.push('the timestamp imprint does not match the timestamped data');
  let eku = false;
  if (signature.signerCertificate) {
    try {
      eku = extendedKeyUsage(readCertFields(signature.signerCertificate))?.includes(TIME_STAMPING) ?? false;
    } catch {
      eku = false;
    }
    if (!eku) problems.push('the TSA certificate lacks the timeStamping extended key usage');
  }
  return { genTime: tstInfo.genTime, imprintMatches, signature, tsaCertificate: signature.signerCertificate, tsaCertHasTimeStampingEku: eku, problems };
}

/** For a signature timestamp: the digest of the signer's signature value. */
export function signatureValueDigest(signatureValue: Buffer): (algorithm: string) => Buffer {
  return (algorithm) => digestOf(algorithm, [signatureValue]);
}
