/**
 * PKCS#12 keystores. Writing is our own DER (der.ts). Reading takes files from uploads and
 * other tools, so it uses asn1js and pkijs (BER accepted, work bounded) for the structure and
 * node:crypto for the MAC, the key decryption and PBES2 (pkcs12-crypto.ts).
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, randomBytes, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeBer, elementsOf, isParseFailure, matchSchema, octetsOf, oidOf, stringContents, toDer, type Block } from './asn1.js';
import { algorithmId, contextTag, integer, nullValue, octetString, oid, sequence, setOf, tlv } from './der.js';
import { DecryptionError, macKey, pbeDecrypt, pkcs12Kdf } from './pkcs12-crypto.js';
import { Pkcs12Error } from './pkcs12-errors.js';


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
  const mac = createHmac('sha256', pkcs12Kdf('sha256', opts.password, salt, 3, MAC_ITERATIONS, 32)).update(authenticatedSafe).digest();
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

const MAX_BAGS = 256;
const MAX_NESTING = 4;
const PKCS12_LIMITS = { maxBytes: 4 * 1024 * 1024, maxNodes: 200_000 } as const;
const CONTENT = { data: '1.2.840.113549.1.7.1', encryptedData: '1.2.840.113549.1.7.6' };
const BAG = { key: '1.2.840.113549.1.12.10.1.1', shroudedKey: OIDS.shroudedKeyBag, cert: OIDS.certBag, safeContents: '1.2.840.113549.1.12.10.1.6' };

const safeBagSchema = (): asn1js.Sequence =>
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ name: 'bagId' }), new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Any({ name: 'bagValue' })] })] });
const certBagSchema = (): asn1js.Sequence =>
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ name: 'certId' }), new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Any({ name: 'certValue' })] })] });
// EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { contentType, algorithm, [0] IMPLICIT OCTET STRING (primitive or constructed) } }
const encryptedDataSchema = (): asn1js.Sequence =>
  new asn1js.Sequence({
    value: [new asn1js.Integer(), new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier(), new asn1js.Sequence({ name: 'algorithm' }), new asn1js.Any({ name: 'encrypted', optional: true })] })],
  });

interface Bags {
  keys: KeyObject[];
  certs: Buffer[];
}

/** A key bag's PKCS#8 (possibly encrypted) as DER, for node:crypto. */
function privateKeyFrom(bag: Block, password: string | undefined): KeyObject {
  const der = toDer(bag);
  try {
    return password === undefined ? createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }) : createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase: password });
  } catch {
    throw new Pkcs12Error(password === undefined ? 'MALFORMED' : 'BAD_PASSWORD', password === undefined ? 'the private key in the PKCS#12 file cannot be read' : 'the private key in the PKCS#12 file cannot be decrypted with this password');
  }
}

function readSafeContents(bytes: Buffer, password: string, bags: Bags, depth: number): void {
  if (depth > MAX_NESTING) throw new Pkcs12Error('MALFORMED', 'the PKCS#12 bags are nested too deeply');
  for (const element of elementsOf(decodeBer(bytes, 'PKCS#12 safe contents', PKCS12_LIMITS), MAX_BAGS, 'safe contents')) {
    if (bags.keys.length + bags.certs.length >= MAX_BAGS) throw new Pkcs12Error('MALFORMED', 'the PKCS#12 file holds too many bags');
    const bag = matchSchema(element, safeBagSchema(), 'safe bag');
    const value = bag.bagValue!;
    switch (oidOf(bag.bagId!, 'bag type')) {
      case BAG.key:
        bags.keys.push(privateKeyFrom(value, undefined));
        break;
      case BAG.shroudedKey:
        bags.keys.push(privateKeyFrom(value, password));
        break;
      case BAG.cert: {
        const cert = matchSchema(value, certBagSchema(), 'certificate bag');
        if (oidOf(cert.certId!, 'certificate type') === OIDS.x509Certificate) bags.certs.push(Buffer.from(octetsOf(cert.certValue!, 'certificate')));
        break;
      }
      case BAG.safeContents:
        readSafeContents(toDer(value), password, bags, depth + 1);
        break;
      default:
        break; // CRL, secret and other bags carry nothing a seal needs
    }
  }
}

function checkMac(pfx: pkijs.PFX, authSafe: Buffer, password: string): void {
  const macData = pfx.macData;
  if (!macData) return; // integrity then rests on the decryption alone
  const { hash, key } = macKey(macData.mac.digestAlgorithm.algorithmId, password, octetsOf(macData.macSalt as Block, 'MAC salt'), macData.iterations ?? 1);
  const expected = octetsOf(macData.mac.digest as Block, 'MAC');
  const actual = createHmac(hash, key).update(authSafe).digest();
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new Pkcs12Error('BAD_PASSWORD', 'the PKCS#12 password is wrong');
}

function readBags(bytes: Buffer, password: string): Bags {
  const pfx = new pkijs.PFX({ schema: decodeBer(bytes, 'PKCS#12 file', PKCS12_LIMITS) });
  if (pfx.authSafe.contentType !== CONTENT.data) throw new Pkcs12Error('MALFORMED', 'public-key protected PKCS#12 files are not supported');
  const authSafe = octetsOf(pfx.authSafe.content as Block, 'authenticated safe');
  checkMac(pfx, authSafe, password);
  const bags: Bags = { keys: [], certs: [] };
  for (const element of elementsOf(decodeBer(authSafe, 'PKCS#12 authenticated safe', PKCS12_LIMITS), MAX_BAGS, 'authenticated safe')) {
    const info = new pkijs.ContentInfo({ schema: element });
    if (info.contentType === CONTENT.data) readSafeContents(octetsOf(info.content as Block, 'safe contents'), password, bags, 0);
    else if (info.contentType === CONTENT.encryptedData) {
      const encrypted = matchSchema(info.content as Block, encryptedDataSchema(), 'encrypted data');
      if (!encrypted.encrypted) continue;
      let plain: Buffer;
      try {
        plain = pbeDecrypt(new pkijs.AlgorithmIdentifier({ schema: encrypted.algorithm! }), password, stringContents(encrypted.encrypted));
      } catch (err) {
        if (err instanceof DecryptionError) throw new Pkcs12Error('BAD_PASSWORD', 'the PKCS#12 certificates cannot be decrypted with this password');
        throw err;
      }
      readSafeContents(plain, password, bags, 0);
    } else throw new Pkcs12Error('MALFORMED', `unsupported PKCS#12 content ${info.contentType}`);
  }
  return bags;
}

/**
 * Reads a PKCS#12 file (RSA or EC key) into a node KeyObject and its chain, leaf first.
 * asn1js/pkijs read the structure (BER as Java and others write it), node:crypto checks the MAC
 * and decrypts (pkcs12-crypto.ts).
 */
export function readPkcs12(bytes: Buffer, password: string): { privateKey: KeyObject; chainDer: Buffer[] } {
  let bags: Bags;
  try {
    bags = readBags(bytes, password);
  } catch (err) {
    if (err instanceof Pkcs12Error) throw err;
    if (err instanceof DecryptionError) throw new Pkcs12Error('BAD_PASSWORD', 'the PKCS#12 password is wrong');
    if (isParseFailure(err)) throw new Pkcs12Error('MALFORMED', `the data is not a readable PKCS#12 file: ${err.message}`);
    throw err;
  }
  const privateKey = bags.keys[0];
  if (!privateKey) throw new Pkcs12Error('NO_KEY', 'the PKCS#12 file holds no private key');
  if (bags.certs.length === 0) throw new Pkcs12Error('NO_CERT', 'the PKCS#12 file holds no certificate');
  const leaf = bags.certs.find((c) => publicKeysMatch(privateKey, c));
  if (!leaf) throw new Pkcs12Error('KEY_CERT_MISMATCH', 'no certificate in the PKCS#12 file matches its private key');
  return { privateKey, chainDer: orderChain(leaf, bags.certs.filter((c) => c !== leaf)) };
}
