import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { validatePdf } from '../../src/validation/engine.js';
import { makePdf } from '../helpers/pdfs.js';
import { pdfsig, tempDir, writeTemp } from '../helpers/tools.js';
import { signWithCustomRanges } from '../validation/fixtures.js';
import { isIndefinite, openssl, selfSigned } from './openssl-pki.js';

const childrenOf = (block: asn1js.AsnType): asn1js.AsnType[] => (block.valueBlock as unknown as { value: asn1js.AsnType[] }).value.filter((c) => !(c instanceof asn1js.EndOfContent));

/**
 * OpenSSL 3.0 always encapsulates the content in DER output, and NSS (pdfsig) then reports a
 * digest mismatch for a PDF signature. This cuts the eContent element out, leaving a detached
 * CMS; its enclosing elements have indefinite lengths, so no length changes, and the signature
 * (over the signed attributes) stays what OpenSSL made.
 */
function detach(cms: Buffer): Buffer {
  const root = asn1js.fromBER(cms, { parseEmbedded: false }).result;
  const signedData = childrenOf(childrenOf(root)[1]!)[0]!;
  const eContent = childrenOf(childrenOf(signedData)[2]!)[1]!;
  const raw = Buffer.from(eContent.valueBeforeDecodeView);
  const at = cms.indexOf(raw);
  return Buffer.concat([cms.subarray(0, at), cms.subarray(at + raw.length)]);
}

describe('a PDF signed with a BER CMS', () => {
  it('`openssl cms -sign -stream` over the byte ranges: the verifier and pdfsig agree it is valid', async () => {
    const signer = selfSigned('ber-pdf', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['keyUsage=critical,digitalSignature,nonRepudiation', 'extendedKeyUsage=emailProtection']);
    const dir = tempDir('ber-pdf');
    let cms: Buffer = Buffer.alloc(0);
    const pdf = await signWithCustomRanges(await makePdf(1), 16384, 'adbe.pkcs7.detached', (bytes) => {
      writeFileSync(path.join(dir, 'ranges.bin'), bytes);
      openssl(['cms', '-sign', '-binary', '-stream', '-outform', 'DER', '-md', 'sha256', '-in', path.join(dir, 'ranges.bin'), '-signer', signer.cert, '-inkey', signer.key, '-out', path.join(dir, 'sig.der')]);
      cms = detach(readFileSync(path.join(dir, 'sig.der')));
      return cms;
    });
    expect(isIndefinite(cms)).toBe(true);
    openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', writeTemp('detached.der', cms), '-content', path.join(dir, 'ranges.bin'), '-noverify', '-out', '/dev/null']);
    const report = await validatePdf(pdf, { trustAnchors: [signer.certDer], offline: true });
    const sig = report.signatures[0]!;
    expect(sig.integrity.messageDigestMatches).toBe(true);
    expect(sig.integrity.signatureValid).toBe(true);
    expect(sig.signer?.subject).toContain('ber-pdf');
    const theirs = pdfsig(writeTemp('ber.pdf', pdf))[0]!;
    expect(theirs.signatureValid, theirs.raw).toBe(true);

    // One changed byte inside the signed ranges: both report the signature broken.
    const altered = Buffer.from(pdf);
    const at = altered.indexOf('/MediaBox');
    altered[at + 1] = altered[at + 1] === 0x4d ? 0x6d : 0x4d;
    const alteredReport = await validatePdf(altered, { trustAnchors: [signer.certDer], offline: true });
    expect(alteredReport.signatures[0]!.integrity.messageDigestMatches).toBe(false);
    expect(pdfsig(writeTemp('ber-altered.pdf', altered))[0]!.signatureValid).toBe(false);
  });
});
