import { createHash, createHmac, createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { contextTag, integer, octetString, oid, readNode, sequence, setOf, tlv, algorithmId, nullValue } from './der.js';

export type Pkcs12ErrorCode = 'BAD_PASSWORD' | 'MALFORMED' | 'NO_KEY' | 'NO_CERT' | 'KEY_CERT_MISMATCH';

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
  constructor(
    readonly code: Pkcs12ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const MAC_ITERATIONS = 2048;

function bmpPassword(password: string): Buffer {
  const utf16 = Buffer.from(`${password}\0`, 'utf16le');
  return utf16.swap16();
}

/** RFC 7292 appendix B key derivation with SHA-256 (u = 32, v = 64). */
function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const u = 32;
  const v = 64;
  const d = Buffer.alloc(v, id);
  const repeat = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const i = Buffer.concat([repeat(salt), repeat(bmpPassword(password))]);
  const blocks: Buffer[] = [];
  for (let c = 0; c < Math.ceil(length / u); c++) {
    let a = createHash('sha256').update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash('sha256').update(a).digest();
    blocks.push(a);
    const b = repeat(a);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function bmpString(text: string): Buffer {
  return tlv(0x1e, Buffer.from(text, 'utf16le').swap16());
}

/**
 * Writes a PFX: the key as a PBES2/AES-256 shrouded key bag (PKCS#8 encryption by OpenSSL),
 * the certificates as plain cert bags, and an HMAC-SHA256 integrity MAC. OpenSSL 3 and
 * node-forge both read it.
 */
export function writePkcs12(opts: { privateKey: KeyObject; chainDer: Buffer[]; password: string; friendlyName?: string }): Buffer {
  const localKeyId = createHash('sha1').update(opts.chainDer[0] ?? Buffer.alloc(0)).digest();
  const attrs = (withName: boolean): Buffer =>
    setOf(
      sequence(oid(OIDS.localKeyId), setOf(octetString(localKeyId))),
      ...(withName && opts.friendlyName ? [sequence(oid(OIDS.friendlyName), setOf(bmpString(opts.friendlyName)))] : []),
    );
  const encryptedKey = opts.privateKey.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: opts.password });
  const keyBag = sequence(oid(OIDS.shroudedKeyBag), contextTag(0, true, encryptedKey), attrs(true));
  const certBags = opts.chainDer.map((cert, i) =>
    sequence(oid(OIDS.certBag), contextTag(0, true, sequence(oid(OIDS.x509Certificate), contextTag(0, true, octetString(cert)))), ...(i === 0 ? [attrs(false)] : [])),
  );
  const dataInfo = (content: Buffer): Buffer => sequence(oid(OIDS.data), contextTag(0, true, octetString(content)));
  const authenticatedSafe = sequence(dataInfo(sequence(keyBag)), dataInfo(sequence(...certBags)));
  const salt = randomBytes(16);
  const macKey = pkcs12Kdf(opts.password, salt, 3, MAC_ITERATIONS, 32);
  const mac = createHmac('sha256', macKey).update(authenticatedSafe).digest();
  const macData = sequence(sequence(algorithmId(OIDS.sha256, nullValue()), octetString(mac)), octetString(salt), integer(MAC_ITERATIONS));
  return sequence(integer(3), dataInfo(authenticatedSafe), macData);
}

function publicKeysMatch(key: KeyObject, certDer: Buffer): boolean {
  try {
    const fromKey = createPublicKey(key).export({ format: 'der', type: 'spki' });
    const fromCert = new X509Certificate(certDer).publicKey.export({ format: 'der', type: 'spki' });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}

function orderChain(leaf: Buffer, others: Buffer[]): Buffer[] {
  const chain = [leaf];
  const rest = [...others];
  for (;;) {
    const current = new X509Certificate(chain[chain.length - 1]!);
    if (current.issuer === current.subject) break;
    const index = rest.findIndex((c) => {
      const candidate = new X509Certificate(c);
      return current.checkIssued(candidate);
    });
    if (index < 0) break;
    chain.push(rest.splice(index, 1)[0]!);
  }
  return chain;
}

/** Reads a PKCS#12 file (RSA or EC key) into a node KeyObject and its chain, leaf first. */
export function readPkcs12(bytes: Buffer, password: string): { privateKey: KeyObject; chainDer: Buffer[] } {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    readNode(bytes); // cheap structural check before forge sees it
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (err) {
    const message = (err as Error).message ?? '';
    if (/password|MAC could not be verified|Invalid password/i.test(message)) throw new Pkcs12Error('BAD_PASSWORD', 'the PKCS#12 password is wrong');
    throw new Pkcs12Error('MALFORMED', 'the data is not a readable PKCS#12 file');
  }
  const bagsOf = (oidName: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: oidName })[oidName] ?? [];
  const keyBags = [...bagsOf(OIDS.shroudedKeyBag), ...bagsOf('1.2.840.113549.1.12.10.1.1')];
  const certBags = bagsOf(OIDS.certBag);
  const keyBag = keyBags[0];
  if (!keyBag) throw new Pkcs12Error('NO_KEY', 'the PKCS#12 file holds no private key');
  let privateKey: KeyObject;
  try {
    const keyAsn1 = keyBag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key)) : (keyBag as unknown as { asn1: forge.asn1.Asn1 }).asn1;
    const der = Buffer.from(forge.asn1.toDer(keyAsn1).getBytes(), 'binary');
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    throw new Pkcs12Error('MALFORMED', 'the private key in the PKCS#12 file cannot be read');
  }
  const certs: Buffer[] = certBags
    .map((bag: forge.pkcs12.Bag) => {
      const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag as unknown as { asn1?: forge.asn1.Asn1 }).asn1;
      return asn1 ? Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary') : null;
    })
    .filter((c): c is Buffer<ArrayBuffer> => c !== null);
  if (certs.length === 0) throw new Pkcs12Error('NO_CERT', 'the PKCS#12 file holds no certificate');
  const leaf = certs.find((c) => publicKeysMatch(privateKey, c));
  if (!leaf) throw new Pkcs12Error('KEY_CERT_MISMATCH', 'no certificate in the PKCS#12 file matches its private key');
  return { privateKey, chainDer: orderChain(leaf, certs.filter((c) => c !== leaf)) };
}
