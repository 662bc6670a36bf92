import { children, decodeOid, readNode, type DerNode } from './der.js';

/** The parts of a certificate that path validation needs, read straight from its DER. */
export interface CertFields {
  tbs: Buffer;
  serialHex: string;
  issuerDer: Buffer;
  subjectDer: Buffer;
  spkiDer: Buffer;
  extensions: Map<string, { critical: boolean; value: Buffer }>;
  signatureAlgorithmOid: string;
}

export const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const;

export function readCertFields(der: Buffer): CertFields {
  const [tbsNode, sigAlg] = children(readNode(der));
  if (!tbsNode || !sigAlg) throw new Error('not a certificate');
  const fields = children(tbsNode);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = fields[offset]!;
  const issuer = fields[offset + 2]!;
  const subject = fields[offset + 4]!;
  const spki = fields[offset + 5]!;
  const extensions = new Map<string, { critical: boolean; value: Buffer }>();
  const extWrapper = fields.find((f) => f.tag === 0xa3);
  if (extWrapper) {
    for (const ext of children(children(extWrapper)[0]!)) {
      const parts = children(ext);
      const id = decodeOid(parts[0]!);
      const critical = parts.length === 3 && parts[1]!.tag === 0x01 && parts[1]!.content[0] !== 0;
      extensions.set(id, { critical, value: parts[parts.length - 1]!.content });
    }
  }
  return {
    tbs: tbsNode.raw,
    serialHex: serial.content.toString('hex').replace(/^(00)+(?=.)/, ''),
    issuerDer: issuer.raw,
    subjectDer: subject.raw,
    spkiDer: spki.raw,
    extensions,
    signatureAlgorithmOid: decodeOid(children(sigAlg)[0]!),
  };
}

/** Key usage bits by name (RFC 5280 4.2.1.3), or null when the extension is absent. */
export function keyUsage(fields: CertFields): Set<string> | null {
  const ext = fields.extensions.get(EXT.keyUsage);
  if (!ext) return null;
  const bits = readNode(ext.value).content;
  const names = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
  const set = new Set<string>();
  names.forEach((name, i) => {
    const byte = bits[1 + (i >> 3)];
    if (byte !== undefined && byte & (0x80 >> (i & 7))) set.add(name);
  });
  return set;
}

export function basicConstraints(fields: CertFields): { ca: boolean; pathLen: number | null } {
  const ext = fields.extensions.get(EXT.basicConstraints);
  if (!ext) return { ca: false, pathLen: null };
  const parts: DerNode[] = children(readNode(ext.value));
  let ca = false;
  let pathLen: number | null = null;
  for (const part of parts) {
    if (part.tag === 0x01) ca = part.content[0] !== 0;
    if (part.tag === 0x02) pathLen = part.content.readUIntBE(0, Math.min(part.content.length, 6));
  }
  return { ca, pathLen };
}

export function extendedKeyUsage(fields: CertFields): string[] | null {
  const ext = fields.extensions.get(EXT.extKeyUsage);
  if (!ext) return null;
  return children(readNode(ext.value)).map(decodeOid);
}

export function subjectKeyIdentifier(fields: CertFields): string | null {
  const ext = fields.extensions.get(EXT.subjectKeyIdentifier);
  return ext ? readNode(ext.value).content.toString('hex') : null;
}
