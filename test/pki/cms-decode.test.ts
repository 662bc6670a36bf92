import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readElement } from '../../src/pki/ber-frame.js';
import { CmsError, parseSignedData } from '../../src/pki/cms-parse.js';
import { contentOf, verifySignerInfo } from '../../src/pki/signed-data.js';
import { cmsSign, selfSigned, toBer } from './openssl-pki.js';

const signer = selfSigned('frame-ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
const data = randomBytes(2_000);

/** Where the first certificate of a SignedData is: ContentInfo, [0], SignedData, version, digestAlgorithms, encap, then [0]. */
function firstCertificate(cms: Buffer): { start: number; end: number; contentStart: number } {
  const root = readElement(cms, 0, cms.length);
  const wrapper = readElement(cms, readElement(cms, root.contentStart, root.contentEnd).end, root.contentEnd);
  const signedData = readElement(cms, wrapper.contentStart, wrapper.contentEnd);
  let at = signedData.contentStart;
  for (let k = 0; k < 3; k++) at = readElement(cms, at, signedData.contentEnd).end;
  const set = readElement(cms, at, signedData.contentEnd);
  return readElement(cms, set.contentStart, set.contentEnd);
}

describe('CMS decoding with the certificates framed apart from asn1js', () => {
  it('reads DER and streamed BER alike, certificates as sent', () => {
    const der = cmsSign(signer, data, ['-md', 'sha256', '-nodetach']);
    for (const cms of [der, toBer(der), cmsSign(signer, data, ['-md', 'sha256', '-stream'])]) {
      const parsed = parseSignedData(Buffer.concat([cms, Buffer.alloc(64)]));
      expect(parsed.certificates).toHaveLength(1);
      expect(parsed.certificates[0]!.equals(signer.certDer)).toBe(true);
      expect(parsed.encapsulatedContent?.equals(data)).toBe(true);
      expect(parsed.signers).toHaveLength(1);
    }
  });

  it('still refuses a certificate that asn1js cannot decode inside an intact frame', () => {
    const cms = cmsSign(signer, data, ['-md', 'sha256']);
    const cert = firstCertificate(cms);
    const tbs = readElement(cms, cert.contentStart, cert.end);
    const signature = readElement(cms, readElement(cms, tbs.end, cert.end).end, cert.end); // the signature BIT STRING
    expect(cms[signature.start]).toBe(0x03);
    const broken = Buffer.from(cms);
    broken[signature.contentStart] = 8; // unused bits must be 0-7: asn1js refuses the element
    expect(() => parseSignedData(broken)).toThrow(CmsError);
    expect(() => parseSignedData(broken)).toThrow(/malformed/);
  });

  it('keeps apart signatures of one signer whose recurring elements are shared', () => {
    const other = randomBytes(2_000);
    const first = parseSignedData(cmsSign(signer, data, ['-md', 'sha256']));
    const second = parseSignedData(cmsSign(signer, other, ['-md', 'sha256']));
    expect(second.signers[0]!.sid).toEqual(first.signers[0]!.sid);
    const verify = (parsed: typeof first, content: Buffer) => verifySignerInfo(parsed, parsed.signers[0]!, contentOf([content]));
    expect(verify(first, data)).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    expect(verify(second, other)).toMatchObject({ messageDigestMatches: true, signatureValid: true });
    expect(verify(second, data).messageDigestMatches).toBe(false);
    expect(verify(first, other).messageDigestMatches).toBe(false);
  });
});
