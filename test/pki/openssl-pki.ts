/** Test material made by OpenSSL (an independent implementation), in a temporary directory. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { tempDir } from '../helpers/tools.js';

export const openssl = (args: string[], cwd?: string): string => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd });

export interface KeyPair {
  dir: string;
  key: string;
  cert: string;
  certDer: Buffer;
}

/** A key of `genpkey` arguments and a self-signed certificate for it. */
export function selfSigned(name: string, genpkey: string[], extensions: string[] = []): KeyPair {
  const dir = tempDir(`pki-${name}`);
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  openssl(['genpkey', ...genpkey, '-out', key]);
  openssl(['req', '-new', '-x509', '-key', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '2', ...extensions.flatMap((e) => ['-addext', e])]);
  openssl(['x509', '-in', cert, '-outform', 'DER', '-out', path.join(dir, 'cert.der')]);
  return { dir, key, cert, certDer: readFileSync(path.join(dir, 'cert.der')) };
}

/** `openssl cms -sign` over `data`, DER output, with extra options; returns the CMS bytes. */
export function cmsSign(signer: KeyPair, data: Buffer, options: string[]): Buffer {
  const input = path.join(signer.dir, 'data.bin');
  const out = path.join(signer.dir, `sig-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(input, data);
  openssl(['cms', '-sign', '-binary', '-outform', 'DER', '-in', input, '-signer', signer.cert, '-inkey', signer.key, ...options, '-out', out]);
  return readFileSync(out);
}

/** Whether the element at the start uses the indefinite length form (BER). */
export const isIndefinite = (der: Buffer): boolean => der[1] === 0x80;

/**
 * Re-encodes DER as BER the way streaming encoders do: every constructed element with an
 * indefinite length, and OCTET STRINGs longer than `chunk` as constructed strings of chunks.
 * The bytes of every primitive element stay the same, and certificates stay DER, as streaming
 * encoders copy them (their hashes are what signing-certificate attributes name).
 */
export function toBer(der: Buffer, chunk = 64): Buffer {
  const decoded = asn1js.fromBER(der, { parseEmbedded: false });
  if (decoded.offset === -1) throw new Error(`not BER: ${decoded.result.error}`);
  return encodeBer(decoded.result, chunk);
}

const childrenOf = (block: asn1js.AsnType): asn1js.AsnType[] =>
  block.idBlock.isConstructed ? (block.valueBlock as unknown as { value: asn1js.AsnType[] }).value.filter((c) => !(c instanceof asn1js.EndOfContent)) : [];

/** A SEQUENCE { SEQUENCE { [0] version, ... }, AlgorithmIdentifier, BIT STRING }: an X.509 certificate. */
function isCertificate(block: asn1js.AsnType): boolean {
  const [tbs, , signature] = childrenOf(block);
  const version = tbs ? childrenOf(tbs)[0] : undefined;
  return block.idBlock.tagNumber === 16 && signature?.idBlock.tagNumber === 3 && version?.idBlock.tagClass === 3 && version.idBlock.tagNumber === 0;
}

function encodeBer(block: asn1js.AsnType, chunk: number): Buffer {
  const raw = Buffer.from(block.valueBeforeDecodeView);
  if (isCertificate(block)) return raw;
  const headerLength = block.idBlock.blockLength + block.lenBlock.blockLength;
  const tag = raw.subarray(0, block.idBlock.blockLength);
  if (!block.idBlock.isConstructed) {
    const content = raw.subarray(headerLength);
    if (block.idBlock.tagClass === 1 && block.idBlock.tagNumber === 4 && content.length > chunk) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < content.length; i += chunk) {
        const piece = content.subarray(i, i + chunk);
        pieces.push(Buffer.concat([Buffer.from([0x04]), lengthOf(piece.length), piece]));
      }
      return Buffer.concat([Buffer.from([0x24, 0x80]), ...pieces, Buffer.from([0, 0])]);
    }
    return raw;
  }
  return Buffer.concat([tag, Buffer.from([0x80]), ...childrenOf(block).map((c) => encodeBer(c, chunk)), Buffer.from([0, 0])]);
}

function lengthOf(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * A CMS made by Java's jarsigner (another independent implementation): a key of `keyalg` made
 * by keytool signs a JAR; returns the signature block (SignedData, detached) and the signed
 * .SF file it is over.
 */
export function jarsignerCms(keyalg: string[], signerOptions: string[]): { cms: Buffer; content: Buffer } {
  const dir = tempDir('jarsigner');
  const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(path.join(dir, 'a.txt'), `signed at ${Date.now()}\n`);
  run('jar', ['cf', 't.jar', 'a.txt']);
  run('keytool', ['-genkeypair', '-alias', 'k', ...keyalg, '-dname', 'CN=jarsigner test', '-storetype', 'PKCS12', '-keystore', 'k.p12', '-storepass', 'secret123', '-validity', '2']);
  run('jarsigner', ['-keystore', 'k.p12', '-storepass', 'secret123', ...signerOptions, 't.jar', 'k']);
  run('unzip', ['-o', '-q', 't.jar', 'META-INF/*']);
  const block = ['K.EC', 'K.RSA', 'K.DSA'].map((n) => path.join(dir, 'META-INF', n)).find((f) => existsSync(f))!;
  return { cms: readFileSync(block), content: readFileSync(path.join(dir, 'META-INF', 'K.SF')) };
}
