import { createHash } from 'node:crypto';
import { extendedKeyUsage, readCertFields } from './cert-fields.js';
import { children, decodeOid, readNode } from './der.js';
import { OID } from './oids.js';
import { CmsError, contentOf, parseSignedData, verifySignerInfo, type ParsedSignedData, type SignerVerification } from './signed-data.js';

const DIGESTS: Record<string, string> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export interface TstInfo {
  policy: string;
  imprintAlgorithm: string;
  imprint: Buffer;
  serialHex: string;
  genTime: Date;
}

export interface TimestampVerification {
  genTime: Date;
  imprintMatches: boolean;
  signature: SignerVerification;
  tsaCertificate: Buffer | null;
  tsaCertHasTimeStampingEku: boolean;
  problems: string[];
}

export function parseTimeStampToken(der: Buffer): { tstInfo: TstInfo; signedData: ParsedSignedData } {
  const signedData = parseSignedData(der);
  if (signedData.eContentType !== OID.tstInfo || !signedData.encapsulatedContent) throw new CmsError('NOT_SIGNED_DATA', 'not a timestamp token (no TSTInfo)');
  try {
    const parts = children(readNode(signedData.encapsulatedContent));
    const imprint = children(parts[2]!);
    const genTime = parts[4]!.content.toString('latin1');
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(genTime);
    if (!m) throw new CmsError('MALFORMED', 'bad genTime');
    return {
      tstInfo: {
        policy: decodeOid(parts[1]!),
        imprintAlgorithm: DIGESTS[decodeOid(children(imprint[0]!)[0]!)] ?? 'unknown',
        imprint: imprint[1]!.content,
        serialHex: parts[3]!.content.toString('hex'),
        genTime: new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`),
      },
      signedData,
    };
  } catch (err) {
    if (err instanceof CmsError) throw err;
    throw new CmsError('MALFORMED', `the timestamp token is malformed: ${(err as Error).message}`);
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
    eku = extendedKeyUsage(readCertFields(signature.signerCertificate))?.includes(TIME_STAMPING) ?? false;
    if (!eku) problems.push('the TSA certificate lacks the timeStamping extended key usage');
  }
  return { genTime: tstInfo.genTime, imprintMatches, signature, tsaCertificate: signature.signerCertificate, tsaCertHasTimeStampingEku: eku, problems };
}

/** For a signature timestamp: the digest of the signer's signature value. */
export function signatureValueDigest(signatureValue: Buffer): (algorithm: string) => Buffer {
  return (algorithm) => createHash(algorithm).update(signatureValue).digest();
}
