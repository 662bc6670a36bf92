import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { contentOf, parseSignedData, verifySignerInfo, type ParsedSignerInfo, type SignerVerification } from '../../src/pki/signed-data.js';
import { cmsSign, jarsignerCms, selfSigned, type KeyPair } from './openssl-pki.js';

const data = randomBytes(3000);

function verify(cms: Buffer, content: Buffer = data, change?: (s: ParsedSignerInfo) => ParsedSignerInfo): SignerVerification {
  const parsed = parseSignedData(cms);
  const signer = change ? change(parsed.signers[0]!) : parsed.signers[0]!;
  return verifySignerInfo(parsed, signer, contentOf([content]));
}

const rsa = selfSigned('rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
const p256 = selfSigned('p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
const p384 = selfSigned('p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']);

/** One Ed448 signature for the tests that read it (each jarsigner run starts three JVMs). */
let ed448: { cms: Buffer; content: Buffer } | undefined;
const ed448Cms = (): { cms: Buffer; content: Buffer } => (ed448 ??= jarsignerCms(['-keyalg', 'Ed448'], []));

function signedBy(pair: KeyPair, options: string[]): Buffer {
  return cmsSign(pair, data, options);
}

/** DER ECDSA-Sig-Value (SEQUENCE of r, s) to r||s of the curve's field size (BSI TR-03111 plain format). */
function plainEcdsa(der: Buffer, fieldBytes: number): Buffer {
  const seq = asn1js.fromBER(der).result as asn1js.Sequence;
  const [r, s] = seq.valueBlock.value as asn1js.Integer[];
  const fixed = (i: asn1js.Integer): Buffer => {
    const bytes = Buffer.from(i.valueBlock.valueHexView);
    const trimmed = bytes[0] === 0 ? bytes.subarray(1) : bytes;
    return Buffer.concat([Buffer.alloc(fieldBytes - trimmed.length), trimmed]);
  };
  return Buffer.concat([fixed(r!), fixed(s!)]);
}

describe('signature algorithms from openssl cms', () => {
  it('RSA-PSS with SHA-512 and a 32-byte salt (parameters read from RSASSA-PSS-params)', () => {
    const result = verify(signedBy(rsa, ['-md', 'sha512', '-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_pss_saltlen:32']));
    expect(result.signatureAlgorithm).toMatchObject({ name: 'RSA-PSS', hash: 'sha512' });
    expect(result.messageDigestMatches).toBe(true);
    expect(result.signatureValid).toBe(true);
    expect(result.unsupportedAlgorithm).toBeUndefined();
  });

  it('RSA-PSS whose MGF1 hash differs from the message hash', () => {
    const cms = signedBy(rsa, ['-md', 'sha512', '-keyopt', 'rsa_padding_mode:pss', '-keyopt', 'rsa_mgf1_md:sha256', '-keyopt', 'rsa_pss_saltlen:20']);
    const result = verify(cms);
    expect(result.signatureValid).toBe(true);
    const tampered = verify(cms, data, (s) => ({ ...s, signature: Buffer.from(s.signature.map((b, i) => (i === 10 ? b ^ 1 : b))) }));
    expect(tampered.signatureValid).toBe(false);
  });

  // OpenSSL 3.0's cms cannot sign with EdDSA or ECDSA-with-SHA3; Java's jarsigner can.
  it('Ed25519 (RFC 8419), signed by jarsigner', () => {
    const { cms, content } = jarsignerCms(['-keyalg', 'Ed25519'], []);
    const result = verify(cms, content);
    expect(result.signatureAlgorithm.name).toBe('Ed25519');
    expect(result.digestAlgorithm).toBe('sha512');
    expect(result.messageDigestMatches).toBe(true);
    expect(result.signatureValid).toBe(true);
  });

  it('Ed448 with a SHAKE256 512-bit message digest (RFC 8419), signed by jarsigner', () => {
    const { cms, content } = ed448Cms();
    const result = verify(cms, content);
    expect(result.signatureAlgorithm.name).toBe('Ed448');
    expect(result.digestAlgorithm).toBe('shake256');
    expect(result.messageDigestMatches).toBe(true);
    expect(result.signatureValid).toBe(true);
    expect(verify(cms, Buffer.concat([content, Buffer.from('x')])).messageDigestMatches).toBe(false);
    const tampered = verify(cms, content, (s) => ({ ...s, signature: Buffer.from(s.signature.map((b, i) => (i === 3 ? b ^ 1 : b))) }));
    expect(tampered.signatureValid).toBe(false);
  });

  it('Ed448 named with id-shake256 (2.16.840.1.101.3.4.2.12) as RFC 8419 writes it', () => {
    const { cms, content } = ed448Cms();
    const result = verify(cms, content, (s) => ({ ...s, digestAlgorithm: 'shake256', digestAlgorithmOid: '2.16.840.1.101.3.4.2.12' }));
    expect(result.messageDigestMatches).toBe(true);
    expect(result.signatureValid).toBe(true);
  });

  it('SHA3-256 with RSA (openssl cms) and ECDSA with SHA3-256 (jarsigner)', () => {
    const withRsa = verify(signedBy(rsa, ['-md', 'sha3-256']));
    expect(withRsa).toMatchObject({ digestAlgorithm: 'sha3-256', signatureValid: true, messageDigestMatches: true });
    const { cms, content } = jarsignerCms(['-keyalg', 'EC', '-groupname', 'secp256r1'], ['-sigalg', 'SHA3-256withECDSA', '-digestalg', 'SHA3-256']);
    const withEc = verify(cms, content);
    expect(withEc).toMatchObject({ digestAlgorithm: 'sha3-256', signatureValid: true, messageDigestMatches: true, signatureAlgorithm: { name: 'ECDSA', hash: 'sha3-256' } });
  });

  it('ECDSA P-256 and P-384', () => {
    expect(verify(signedBy(p256, ['-md', 'sha256']))).toMatchObject({ signatureValid: true, messageDigestMatches: true, signatureAlgorithm: { name: 'ECDSA', hash: 'sha256' } });
    expect(verify(signedBy(p384, ['-md', 'sha384']))).toMatchObject({ signatureValid: true, messageDigestMatches: true, signatureAlgorithm: { name: 'ECDSA', hash: 'sha384' } });
  });

  it('plain ECDSA (BSI TR-03111 ecdsa-plain-SHA256: r||s)', () => {
    const cms = signedBy(p256, ['-md', 'sha256']);
    const toPlain = (s: ParsedSignerInfo): ParsedSignerInfo => ({ ...s, signature: plainEcdsa(s.signature, 32), signatureAlgorithm: { oid: '0.4.0.127.0.7.1.1.4.1.3', params: undefined } });
    const result = verify(cms, data, toPlain);
    expect(result.signatureAlgorithm).toMatchObject({ name: 'ECDSA-plain', hash: 'sha256' });
    expect(result.signatureValid).toBe(true);
    const broken = verify(cms, data, (s) => {
      const plain = toPlain(s);
      plain.signature[5] = plain.signature[5]! ^ 0x40;
      return plain;
    });
    expect(broken.signatureValid).toBe(false);
  });

  it('an unknown signature algorithm is reported as unsupported, not as a broken signature', () => {
    // GOST R 34.10-2012 (256): SM2-with-SM3, the example here before, is now verified
    const result = verify(signedBy(p256, ['-md', 'sha256']), data, (s) => ({ ...s, signatureAlgorithm: { oid: '1.2.643.7.1.1.3.2', params: undefined } }));
    expect(result.unsupportedAlgorithm).toBe('1.2.643.7.1.1.3.2');
    expect(result.signatureValid).toBeNull();
    expect(result.messageDigestMatches).toBe(true);
    expect(result.signerCertificate?.equals(p256.certDer)).toBe(true);
  });

  it('an unknown digest algorithm is reported as unsupported', () => {
    const result = verify(signedBy(p256, ['-md', 'sha256']), data, (s) => ({ ...s, digestAlgorithm: '1.2.3.4.5', digestAlgorithmOid: '1.2.3.4.5' }));
    expect(result.unsupportedAlgorithm).toBe('1.2.3.4.5');
    expect(result.signatureValid).toBeNull();
  });

  it('a tampered signature value fails, and so does a signature over other content', () => {
    const cms = signedBy(rsa, ['-md', 'sha256']);
    const tampered = verify(cms, data, (s) => ({ ...s, signature: Buffer.from(s.signature.map((b, i) => (i === 0 ? b ^ 0x80 : b))) }));
    expect(tampered.signatureValid).toBe(false);
    expect(tampered.unsupportedAlgorithm).toBeUndefined();
    expect(tampered.problems.join(' ')).toMatch(/does not verify/);
    const other = verify(cms, randomBytes(3000));
    expect(other.messageDigestMatches).toBe(false);
  });

  it('a signature algorithm that does not fit the key fails rather than passes', () => {
    const result = verify(signedBy(rsa, ['-md', 'sha256']), data, (s) => ({ ...s, signatureAlgorithm: { oid: '1.2.840.10045.4.3.2', params: undefined } }));
    expect(result.signatureValid).toBe(false);
  });
});
