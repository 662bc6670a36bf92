import * as pkijs from 'pkijs';
import { decodeBer, SMALL_LIMITS } from './asn1.js';
import { CertificateError } from './cert-fields.js';

export const NAME_OID = { organization: '2.5.4.10', organizationIdentifier: '2.5.4.97', serialNumber: '2.5.4.5', commonName: '2.5.4.3' } as const;

/** The subject's attributes of a certificate as text, by attribute type (OID), read with pkijs. */
export function subjectAttributes(der: Buffer): Map<string, string[]> {
  let cert: pkijs.Certificate;
  try {
    cert = new pkijs.Certificate({ schema: decodeBer(der, 'certificate', SMALL_LIMITS) });
  } catch (err) {
    throw new CertificateError(`the certificate cannot be read: ${(err as Error).message}`);
  }
  const attributes = new Map<string, string[]>();
  for (const tv of cert.subject.typesAndValues) {
    const value = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
    if (typeof value !== 'string') continue;
    attributes.set(tv.type, [...(attributes.get(tv.type) ?? []), value]);
  }
  return attributes;
}
