import { contextTag, integer, oid, sequence, setOf, tlv } from './der.js';
import { signatureAlgorithmId } from './signature-algorithm.js';
import type { DigestName, Signer } from './signer.js';

const NAME_ATTRIBUTES: Record<string, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  serialNumber: '2.5.4.5',
  organizationIdentifier: '2.5.4.97',
};

/** countryName and serialNumber are PrintableString (RFC 5280); everything else UTF8String, so CJK names survive. */
const PRINTABLE = new Set(['2.5.4.6', '2.5.4.5']);

/** An X.501 Name from [type, value] pairs in order (types by short name or dotted OID), one attribute per RDN. */
export function encodeName(subject: ReadonlyArray<readonly [string, string]>): Buffer {
  return sequence(
    ...subject.map(([type, value]) => {
      const attributeType = NAME_ATTRIBUTES[type] ?? (/^\d+(\.\d+)+$/.test(type) ? type : undefined);
      if (!attributeType) throw new Error(`unknown name attribute ${type}`);
      return setOf(sequence(oid(attributeType), tlv(PRINTABLE.has(attributeType) ? 0x13 : 0x0c, Buffer.from(value, 'utf8'))));
    }),
  );
}

/**
 * A PKCS#10 CertificationRequest (RFC 2986) for `publicKeySpki`, signed through `signer`, so a
 * key that never leaves its token can ask for its certificate. Returns DER.
 */
export async function buildCertificationRequest(options: {
  subject: ReadonlyArray<readonly [string, string]>;
  publicKeySpki: Buffer;
  signer: Signer;
  digest?: DigestName;
}): Promise<Buffer> {
  const digest = options.digest ?? 'sha256';
  // attributes [0] IMPLICIT SET OF Attribute: none requested; the CA decides the extensions.
  const info = sequence(integer(0), encodeName(options.subject), options.publicKeySpki, contextTag(0, true));
  const signature = await options.signer.sign(info, digest);
  return sequence(info, signatureAlgorithmId(options.signer.key, digest), tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}
