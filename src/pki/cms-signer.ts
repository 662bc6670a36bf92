import { createHash } from 'node:crypto';
import { readCertFields } from './cert-fields.js';
import { algorithmId, contextTag, integer, octetString, oid, sequence, setOf, tlv } from './der.js';
import { DIGEST_OID, OID } from './oids.js';
import { defaultDigestFor, signatureAlgorithmId } from './signature-algorithm.js';
import type { DigestName, Signer } from './signer.js';

/** An unsigned attribute to add to the SignerInfo (for example a signature timestamp). */
export interface UnsignedAttribute {
  type: string;
  values: Buffer[];
}

function issuerAndSerial(certDer: Buffer): { issuer: Buffer; serial: Buffer } {
  const fields = readCertFields(certDer);
  // The serial's DER encoding again (minimal, a leading zero when the high bit is set), as in the certificate.
  return { issuer: fields.issuerDer, serial: integer(Buffer.from(fields.serialHex.padStart(fields.serialHex.length + (fields.serialHex.length % 2), '0'), 'hex')) };
}

function isSelfIssued(certDer: Buffer): boolean {
  const fields = readCertFields(certDer);
  return fields.issuerDer.equals(fields.subjectDer);
}

function maxEcdsaSignatureLength(fieldBytes: number): number {
  const intLength = 2 + fieldBytes + 1;
  const content = 2 * intLength;
  return content + (content < 0x80 ? 2 : 3);
}

const attribute = (type: string, ...values: Buffer[]): Buffer => sequence(oid(type), setOf(...values));

/**
 * Builds CMS SignedData for PAdES baseline (`ETSI.CAdES.detached`): detached content, signed
 * attributes content-type, message-digest and signing-certificate-v2, no signing-time. For an
 * SM2 signer every digest is SM3 and the signature SM2-with-SM3 (pades.ts then writes the
 * signature as adbe.pkcs7.detached).
 * Everything that depends only on the certificate is computed once, in the constructor.
 */
export class PadesCmsBuilder {
  /** SHA-256, or SM3 for an SM2 key: the message digest, the signature's hash and the certificate hash. */
  readonly digest: DigestName;
  private readonly certificates: Buffer;
  private readonly signerId: Buffer;
  private readonly signingCertificateV2: Buffer;
  private readonly digestAlgorithm: Buffer;
  private readonly signatureAlgorithm: Buffer;
  private readonly maxSignatureLength: number;
  private probeLength?: number;

  private readonly contentType: string;

  constructor(
    readonly chainDer: readonly Buffer[],
    readonly signer: Signer,
    /** The content type signed for; a TSA signs TSTInfo. */
    options: { contentType?: string } = {},
  ) {
    this.contentType = options.contentType ?? OID.data;
    const leaf = chainDer[0];
    if (!leaf) throw new Error('a signer needs a certificate chain');
    const { issuer, serial } = issuerAndSerial(leaf);
    this.signerId = sequence(issuer, serial);
    const included = chainDer.filter((cert, i) => i === 0 || !isSelfIssued(cert));
    this.certificates = contextTag(0, true, ...included);
    this.digest = defaultDigestFor(signer.key);
    const certHash = createHash(this.digest).update(leaf).digest();
    const issuerSerial = sequence(sequence(contextTag(4, true, issuer)), serial);
    // hashAlgorithm is omitted for sha256, its DEFAULT, which DER leaves out.
    const certHashAlgorithm = this.digest === 'sha256' ? [] : [algorithmId(DIGEST_OID[this.digest])];
    this.signingCertificateV2 = attribute(OID.signingCertificateV2, sequence(sequence(sequence(...certHashAlgorithm, octetString(certHash), issuerSerial))));
    this.digestAlgorithm = algorithmId(DIGEST_OID[this.digest]);
    this.signatureAlgorithm = signatureAlgorithmId(signer.key, this.digest);
    if (signer.key.kind === 'rsa') {
      this.maxSignatureLength = Math.ceil(signer.key.modulusBits / 8);
    } else if (signer.key.kind === 'sm2') {
      this.maxSignatureLength = maxEcdsaSignatureLength(32);
    } else {
      const fieldBytes = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }[signer.key.curve];
      this.maxSignatureLength = maxEcdsaSignatureLength(fieldBytes);
    }
  }

  /** The DER of the signed attributes as a SET (what is signed). */
  signedAttributes(messageDigest: Buffer): Buffer {
    return setOf(
      attribute(OID.contentType, oid(this.contentType)),
      attribute(OID.messageDigest, octetString(messageDigest)),
      this.signingCertificateV2,
    );
  }

  private assemble(signedAttrs: Buffer, signature: Buffer, unsigned: UnsignedAttribute[], eContent?: Buffer): Buffer {
    const signedAttrsImplicit = Buffer.from(signedAttrs);
    signedAttrsImplicit[0] = 0xa0; // [0] IMPLICIT SET OF Attribute
    const unsignedAttrs = unsigned.length
      ? [contextTag(1, true, ...unsigned.map((a) => attribute(a.type, ...a.values)).sort(Buffer.compare))]
      : [];
    const signerInfo = sequence(
      integer(1),
      this.signerId,
      this.digestAlgorithm,
      signedAttrsImplicit,
      this.signatureAlgorithm,
      octetString(signature),
      ...unsignedAttrs,
    );
    const signedData = sequence(
      integer(1),
      setOf(this.digestAlgorithm),
      eContent ? sequence(oid(this.contentType), contextTag(0, true, octetString(eContent))) : sequence(oid(this.contentType)),
      this.certificates,
      tlv(0x31, signerInfo),
    );
    return sequence(oid(OID.signedData), contextTag(0, true, signedData));
  }

  /**
   * The largest encoding `build` can return with these unsigned attributes' sizes, for sizing
   * the signature placeholder exactly.
   */
  maxLength(extraUnsignedBytes = 0): number {
    // Depends only on what the builder was made with, so the probe is encoded once.
    this.probeLength ??= this.assemble(this.signedAttributes(Buffer.alloc(32)), Buffer.alloc(this.maxSignatureLength), []).length;
    return this.probeLength + (extraUnsignedBytes > 0 ? extraUnsignedBytes + 16 : 0);
  }

  /**
   * Signs: returns the signature value and a function that wraps it with unsigned attributes.
   * With `eContent` the content is encapsulated (as in a timestamp token) instead of detached.
   */
  async sign(messageDigest: Buffer, eContent?: Buffer): Promise<{ signature: Buffer; encode: (unsigned?: UnsignedAttribute[]) => Buffer }> {
    const signedAttrs = this.signedAttributes(messageDigest);
    const signature = await this.signer.sign(signedAttrs, this.digest);
    return { signature, encode: (unsigned = []) => this.assemble(signedAttrs, signature, unsigned, eContent) };
  }
}
