import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfDocument } from '../../src/pdf/document.js';
import { findSignatures } from '../../src/pdf/signatures.js';
import { CmsError, contentOf, parseSignedData, verifySignerInfo } from '../../src/pki/signed-data.js';
import { parseTimeStampToken } from '../../src/pki/timestamp-token.js';
import { CrlError, parseCrl } from '../../src/revocation/crl.js';
import { buildOcspRequest, checkOcspSigner, OcspError, parseOcspResponse } from '../../src/revocation/ocsp.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
let cms: Buffer;
let ocsp: Buffer;
let crl: Buffer;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

function* mutations(input: Buffer, seed: number, count: number): Generator<Buffer> {
  const next = random(seed);
  for (let i = 0; i < count; i++) {
    const m = Buffer.from(input);
    for (let e = 0; e < 1 + Math.floor(next() * 6); e++) m[Math.floor(next() * m.length)] = Math.floor(next() * 256);
    yield next() < 0.25 ? m.subarray(0, Math.floor(next() * m.length)) : m;
  }
}

beforeAll(async () => {
  svc = await startService();
  const sealed = await sealOk(svc, await makePdf(1), { sealId: 'xzsp-official', level: 'B-T' });
  cms = findSignatures(PdfDocument.load(sealed))[0]!.contents!;
  const pki = svc.service.devPki!;
  const { der } = buildOcspRequest(pki.seals[0]!.chainDer[0]!, pki.sealCa.certDer);
  ocsp = Buffer.from(await (await fetch(`${svc.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(der) })).arrayBuffer());
  crl = Buffer.from(await (await fetch(`${svc.url}/pki/seal-ca.crl`)).arrayBuffer());
});
afterAll(async () => svc?.close());

describe('hostile input to the crypto parsers', () => {
  it('mutated CMS and timestamp tokens: a CmsError or a verdict, never another exception', () => {
    const content = contentOf([Buffer.from('signed bytes')]);
    let verdicts = 0;
    for (const input of mutations(cms, 1, 800)) {
      try {
        const parsed = parseSignedData(input);
        const result = verifySignerInfo(parsed, parsed.signers[0]!, content, []);
        expect(result.signatureValid === true && result.messageDigestMatches === true).toBe(false); // never valid for other content
        verdicts++;
        for (const token of parsed.signers[0]!.unsignedAttrs.values()) {
          for (const node of token) {
            try {
              parseTimeStampToken(node.raw);
            } catch (err) {
              if (!(err instanceof CmsError)) throw err;
            }
          }
        }
      } catch (err) {
        if (!(err instanceof CmsError)) throw err;
      }
    }
    expect(verdicts).toBeGreaterThan(100);
  });

  it('mutated OCSP responses and CRLs: typed errors, never a trusted answer from a broken signature', () => {
    const issuer = svc.service.devPki!.sealCa.certDer;
    const original = parseOcspResponse(ocsp);
    expect(checkOcspSigner(original, issuer)).toBeNull();
    let rejected = 0;
    for (const input of mutations(ocsp, 2, 1000)) {
      try {
        const parsed = parseOcspResponse(input);
        if (checkOcspSigner(parsed, issuer) === null) {
          // Accepted only when the signed data and its signature came through unchanged.
          expect(parsed.tbs!.equals(original.tbs!)).toBe(true);
          expect(parsed.signature!.equals(original.signature!)).toBe(true);
        } else rejected++;
      } catch (err) {
        if (!(err instanceof OcspError)) throw err;
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(750);
    for (const input of mutations(crl, 3, 1000)) {
      try {
        parseCrl(input);
      } catch (err) {
        if (!(err instanceof CrlError)) throw err;
      }
    }
  });
});
