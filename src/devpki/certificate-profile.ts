/** What a development certificate says besides its keys: the request, its name, its extensions. */
import * as x509 from '@peculiar/x509';

export type KeyKind = 'rsa' | 'ec' | 'ec384' | 'sm2';

export interface CertificateRequest {
  /** RFC 4514-style subject, or a list of [attribute type or OID, value] pairs (UTF-8 text allowed). */
  subject: Array<[string, string]>;
  keyKind: KeyKind;
  notBefore: Date;
  notAfter: Date;
  ca?: { pathLength?: number };
  keyUsage: number;
  extendedKeyUsage?: { usages: string[]; critical: boolean };
  ocspUrl?: string;
  caIssuersUrl?: string;
  crlUrl?: string;
  ocspNoCheck?: boolean;
  /** Certificate policy OIDs (certificatePolicies, not critical); none: no such extension. */
  policies?: string[];
}

export function nameOf(subject: Array<[string, string]>): x509.Name {
  return new x509.Name(subject.map(([type, value]) => ({ [type]: [value] })) as x509.JsonName);
}

/** The extensions of a development certificate, in order, around its key identifiers. */
export function profileExtensions(
  request: Omit<CertificateRequest, 'keyKind'>,
  subjectKeyId: x509.SubjectKeyIdentifierExtension,
  authorityKeyId: x509.AuthorityKeyIdentifierExtension,
): x509.Extension[] {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(request.ca !== undefined, request.ca?.pathLength, request.ca !== undefined),
    new x509.KeyUsagesExtension(request.keyUsage, true),
    subjectKeyId,
    authorityKeyId,
  ];
  if (request.extendedKeyUsage) extensions.push(new x509.ExtendedKeyUsageExtension(request.extendedKeyUsage.usages, request.extendedKeyUsage.critical));
  if (request.ocspUrl || request.caIssuersUrl) {
    extensions.push(
      new x509.AuthorityInfoAccessExtension({
        ...(request.ocspUrl ? { ocsp: [request.ocspUrl] } : {}),
        ...(request.caIssuersUrl ? { caIssuers: [request.caIssuersUrl] } : {}),
      }),
    );
  }
  if (request.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([request.crlUrl]));
  if (request.policies?.length) extensions.push(new x509.CertificatePolicyExtension(request.policies, false));
  if (request.ocspNoCheck) extensions.push(new x509.Extension('1.3.6.1.5.5.7.48.1.5', false, new Uint8Array([0x05, 0x00])));
  return extensions;
}
