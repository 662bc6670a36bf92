/**
 * The ESS signing-certificate attributes (RFC 2634 signing-certificate, RFC 5035
 * signing-certificate-v2) read with an asn1js schema: pkijs has no class for them. Only the
 * first ESSCertID counts (it names the signer's certificate); asn1js schemas ignore the elements
 * after the ones they name (further ESSCertIDs, policies).
 */
import * as asn1js from 'asn1js';
import { Asn1Error, isConstructed, matchSchema, octetsOf, oidOf, rawOf, integerHex, elementsOf, type Block } from './asn1.js';
import { DIGEST_BY_OID } from './digests.js';

export interface EssCertId {
  /** Digest name, or `unknown:<oid>` when the algorithm is not known. */
  hashAlgorithm: string;
  certHash: Buffer;
  /** The issuer Name (directoryName of the GeneralNames) and serial, when present. */
  issuerSerial: { issuerNames: Buffer[]; serialHex: string } | null;
}

function essCertIdSchema(v2: boolean): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({
            name: 'first',
            value: [
              ...(v2 ? [new asn1js.Sequence({ name: 'hashAlgorithm', optional: true, value: [new asn1js.ObjectIdentifier({ name: 'hashOid' }), new asn1js.Any({ optional: true })] })] : []),
              new asn1js.OctetString({ name: 'certHash' }),
              new asn1js.Sequence({ name: 'issuerSerial', optional: true, value: [new asn1js.Sequence({ name: 'generalNames', value: [new asn1js.Repeated({ name: 'names', value: new asn1js.Any() })] }), new asn1js.Integer({ name: 'serial' })] }),
            ],
          }),
        ],
      }),
    ],
  });
}

/** Reads the first ESSCertID(v2) of a signing-certificate(-v2) attribute value. */
export function readEssCertId(value: Block, v2: boolean): EssCertId {
  const named = matchSchema(value, essCertIdSchema(v2), v2 ? 'signing-certificate-v2 attribute' : 'signing-certificate attribute');
  const hashOid = named.hashOid ? oidOf(named.hashOid, 'ESS hash algorithm') : undefined;
  const hashAlgorithm = v2 ? (hashOid ? (DIGEST_BY_OID[hashOid] ?? `unknown:${hashOid}`) : 'sha256') : 'sha1';
  let issuerSerial: EssCertId['issuerSerial'] = null;
  if (named.issuerSerial) {
    const names = (named.names as unknown as Block[] | undefined) ?? [];
    if (names.length > 16) throw new Asn1Error('too many names in the ESS issuer');
    // directoryName is [4] EXPLICIT Name.
    const issuerNames = names
      .filter((n) => n.idBlock.tagClass === 3 && n.idBlock.tagNumber === 4 && isConstructed(n))
      .map((n) => {
        const inner = elementsOf(n, 1, 'directory name');
        if (!inner[0]) throw new Asn1Error('empty directory name');
        return rawOf(inner[0]);
      });
    issuerSerial = { issuerNames, serialHex: integerHex(named.serial!, 'ESS serial number') };
  }
  return { hashAlgorithm, certHash: octetsOf(named.certHash!, 'ESS certificate hash'), issuerSerial };
}
