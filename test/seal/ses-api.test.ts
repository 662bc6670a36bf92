/**
 * National e-seals through the API: registering a seal with a GB/T 38540 SESeal (checked: maker
 * signature, trusted maker, validity, listed certificate; its own picture used), the detached
 * signing of an SM3 hash (`POST /v1/ses/sign`) and the verification of an SES_Signature against
 * a document or its hash (`POST /v1/ses/verify`), with the same indications as in a PDF. A seal
 * whose picture is an OFD document is drawn and lands on the sealed page (rendered by pdftoppm).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCanvas } from '@napi-rs/canvas';
import { issueCertificate, issueSealCertificate, KEY_USAGE, validityYears } from '../../src/devpki/issue.js';
import { sm2SignerOf } from '../../src/devpki/issuer-signature.js';
import { derToPem } from '../../src/pki/pem.js';
import { writePkcs12 } from '../../src/pki/pfx.js';
import { SEAL_PIXELS_PER_MM } from '../../src/seals/image.js';
import { decodePng } from '../../src/seals/png.js';
import { makeSesSeal, type SesSealContent } from '../../src/pki/ses/ses-build.js';
import { parseSesSignature } from '../../src/pki/ses/ses-parse.js';
import type { SignatureReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { ofdPackage, sealObjects } from '../helpers/ofd.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const DAY = 24 * 3600 * 1000;
const ORG = { orgName: '某某市自然资源和规划局', uscc: '11370500MB0100003P' };

describe('national e-seals through the API', () => {
  let svc: RunningService;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' });
  const post = (url: string, body: unknown, headers = auth()): Promise<Response> => fetch(`${svc.url}${url}`, { method: 'POST', headers, body: JSON.stringify(body) });

  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => svc?.close());

  /** A new SM2 seal certificate for the sample department, and its keystore. */
  async function newSealCertificate(): Promise<{ certDer: Buffer; pkcs12: Buffer }> {
    const pki = svc.service.devPki!;
    const issued = await issueSealCertificate({ orgName: ORG.orgName, uscc: ORG.uscc, sealName: '', sealTypes: ['official'], keyKind: 'sm2', baseUrl: svc.url }, pki.sm2.sealCa);
    return { certDer: issued.certDer, pkcs12: writePkcs12({ privateKey: issued.privateKey, chainDer: [issued.certDer, pki.sm2.sealCa.certDer, pki.sm2.root.certDer], password: 'pw', friendlyName: 'seal' }) };
  }

  /** An SESeal made by the development maker (or by `maker`), listing `certDer`. */
  async function sesSeal(certDer: Buffer, overrides: Partial<SesSealContent> = {}, maker = svc.service.devPki!.sm2.maker): Promise<Buffer> {
    const now = Date.now();
    return makeSesSeal(
      {
        layout: 4,
        vendorId: 'TEST',
        esId: '1137050000001',
        type: 1,
        name: ORG.orgName,
        certList: { kind: 'certificates', certificates: [certDer] },
        createdAt: new Date(now - DAY),
        validFrom: new Date(now - DAY),
        validTo: new Date(now + 300 * DAY),
        picture: { format: 'JPG', data: jpegPicture(), widthMm: 40, heightMm: 40 },
        ...overrides,
      },
      { certificate: maker.certDer, signer: sm2SignerOf(maker.privateKey)! },
    );
  }

  /** A JPEG seal picture: a red ring on white. */
  function jpegPicture(): Buffer {
    const canvas = createCanvas(240, 240);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, 240, 240);
    ctx.strokeStyle = '#e60012';
    ctx.lineWidth = 12;
    ctx.beginPath();
    ctx.arc(120, 120, 100, 0, Math.PI * 2);
    ctx.stroke();
    return canvas.toBuffer('image/jpeg');
  }

  const register = (id: string, pkcs12: Buffer, ses: Buffer): Promise<Response> =>
    post('/v1/seals', { id, orgName: ORG.orgName, orgUscc: ORG.uscc, sealType: 'official', pkcs12: pkcs12.toString('base64'), password: 'pw', sesSeal: ses.toString('base64') });

  it('registers a seal with its national e-seal, takes its JPEG picture, and seals with it (format=ses)', async () => {
    const { certDer, pkcs12 } = await newSealCertificate();
    const res = await register('zrzy-national', pkcs12, await sesSeal(certDer, { picture: { format: 'JPG', data: jpegPicture(), widthMm: 40, heightMm: 40 } }));
    expect(res.status, await res.clone().text()).toBe(201);
    const seal = (await res.json()) as { diameterMm: number; nationalSeal: { esId: string; picture: { format: string } } };
    expect(seal).toMatchObject({ diameterMm: 40, nationalSeal: { esId: '1137050000001', picture: { format: 'JPG' } } });
    const png = Buffer.from(await (await fetch(`${svc.url}/v1/seals/zrzy-national/image.png`, { headers: auth() })).arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'zrzy-national', format: 'ses' });
    const report = (await (await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(sealed) })).json()) as { signatures: SignatureReport[] };
    expect(report.signatures[0]).toMatchObject({ indication: 'TOTAL_PASSED', seal: { id: 'zrzy-national' }, nationalSeal: { esId: '1137050000001' } });
  });

  it('takes a vector (SVG) seal picture, drawn at the printed size', async () => {
    const { certDer, pkcs12 } = await newSealCertificate();
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="420" height="420" viewBox="0 0 420 420"><circle cx="210" cy="210" r="190" fill="none" stroke="#e60012" stroke-width="14"/></svg>';
    const res = await register('zrzy-vector', pkcs12, await sesSeal(certDer, { picture: { format: 'SVG', data: Buffer.from(svg), widthMm: 42, heightMm: 42 } }));
    expect(res.status, await res.clone().text()).toBe(201);
    const png = decodePng(Buffer.from(await (await fetch(`${svc.url}/v1/seals/zrzy-vector/image.png`, { headers: auth() })).arrayBuffer()));
    expect([png.width, png.height]).toEqual([42 * SEAL_PIXELS_PER_MM, 42 * SEAL_PIXELS_PER_MM]);
    // the ring is red and the middle transparent
    const pixel = (x: number, y: number): { red: number; alpha: number } => ({ red: png.rgb[(y * png.width + x) * 3]!, alpha: png.alpha![y * png.width + x]! });
    expect(pixel(png.width / 2, png.height / 2).alpha).toBe(0);
    const ring = pixel(png.width / 2, Math.round(png.height * (20 / 420)));
    expect(ring.red).toBeGreaterThan(200);
    expect(ring.alpha).toBeGreaterThan(200);
  });

  it('takes an OFD seal picture (its first page drawn), and the sealed page shows it where the seal is placed', async () => {
    const { certDer, pkcs12 } = await newSealCertificate();
    const res = await register('zrzy-ofd', pkcs12, await sesSeal(certDer, { picture: { format: 'OFD', data: ofdPackage(sealObjects(ORG.orgName)), widthMm: 40, heightMm: 40 } }));
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({ diameterMm: 40, nationalSeal: { picture: { format: 'OFD', widthMm: 40, heightMm: 40 } } });
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'zrzy-ofd', format: 'ses', x: '60', y: '100' });
    // pdftoppm at 36 dpi: the red of the seal spans 40 mm around (60 mm, 100 mm), nothing elsewhere
    const dir = tempDir('ofd-seal');
    execFileSync('pdftoppm', ['-r', '36', '-png', '-singlefile', writeTemp('ofd-sealed.pdf', sealed), path.join(dir, 'page')]);
    const page = decodePng(readFileSync(path.join(dir, 'page.png')));
    const pxPerMm = 36 / 25.4;
    const red = { count: 0, minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
    for (let y = 0; y < page.height; y++) {
      for (let x = 0; x < page.width; x++) {
        const i = (y * page.width + x) * 3;
        if (page.rgb[i]! > 180 && page.rgb[i + 1]! < 90 && page.rgb[i + 2]! < 90) {
          red.count++;
          [red.minX, red.maxX, red.minY, red.maxY] = [Math.min(red.minX, x), Math.max(red.maxX, x), Math.min(red.minY, y), Math.max(red.maxY, y)];
        }
      }
    }
    expect(red.count).toBeGreaterThan(300);
    expect(Math.abs((red.minX + red.maxX) / 2 - 60 * pxPerMm)).toBeLessThan(3);
    expect(Math.abs((red.minY + red.maxY) / 2 - 100 * pxPerMm)).toBeLessThan(3);
    expect(Math.abs(red.maxX - red.minX - 40 * pxPerMm)).toBeLessThan(4);
    // the star's centre is ink, the page beside the seal is not
    const redAt = (xMm: number, yMm: number): boolean => {
      const i = (Math.round(yMm * pxPerMm) * page.width + Math.round(xMm * pxPerMm)) * 3;
      return page.rgb[i]! > 180 && page.rgb[i + 1]! < 90 && page.rgb[i + 2]! < 90;
    };
    expect(redAt(60, 100)).toBe(true);
    expect(redAt(60, 125)).toBe(false);
  });

  it('refuses a national e-seal that is forged, expired, made by an untrusted maker, or for another certificate, naming why', async () => {
    const { certDer, pkcs12 } = await newSealCertificate();
    const other = await newSealCertificate();
    const picture = { format: 'JPG', data: jpegPicture(), widthMm: 40, heightMm: 40 };
    const forged = Buffer.from(await sesSeal(certDer, { picture }));
    const nameAt = forged.indexOf(Buffer.from('自然资源'));
    Buffer.from('自然灾害').copy(forged, nameAt);
    const untrustedMaker = await issueCertificate({ subject: [['CN', 'A seal maker nobody trusts']], keyKind: 'sm2', ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature });
    const cases: Array<[string, Buffer, RegExp]> = [
      ['forged', forged, /seal-maker-signature/],
      ['expired', await sesSeal(certDer, { picture, validFrom: new Date(Date.now() - 20 * DAY), validTo: new Date(Date.now() - DAY) }), /seal-validity/],
      ['untrusted maker', await sesSeal(certDer, { picture }, untrustedMaker), /maker certificate is not valid under a trusted CA/],
      ['another certificate', await sesSeal(other.certDer, { picture }), /does not list the certificate/],
      ['not a seal', Buffer.from('3003020101', 'hex'), /not a GB\/T 38540 or GM\/T 0031 seal/],
      ['OFD picture', await sesSeal(certDer, { picture: { format: 'OFD', data: Buffer.from('<ofd/>'), widthMm: 40, heightMm: 40 } }), /OFD picture: it is not a ZIP file/],
    ];
    for (const [what, ses, reason] of cases) {
      const res = await register(`refused-${what.replace(/ /g, '-')}`, pkcs12, ses);
      expect(res.status, what).toBe(422);
      expect(((await res.json()) as { detail: string }).detail, what).toMatch(reason);
    }
  });

  it('stops signing with a national e-seal once it has expired (409), in PDFs and detached', async () => {
    const { certDer, pkcs12 } = await newSealCertificate();
    const res = await register('zrzy-expiring', pkcs12, await sesSeal(certDer));
    expect(res.status, await res.clone().text()).toBe(201);
    await sealOk(svc, await makePdf(1), { sealId: 'zrzy-expiring', format: 'ses' });
    // the national seal as it stands a year on: expired since yesterday
    const expired = await sesSeal(certDer, { validFrom: new Date(Date.now() - 30 * DAY), validTo: new Date(Date.now() - DAY) });
    await svc.service.db.run('UPDATE national_seals SET ses_seal = ? WHERE seal_id = ?', [expired, 'zrzy-expiring']);
    const sealed = await fetch(`${svc.url}/v1/seal?sealId=zrzy-expiring&format=ses`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/pdf' }, body: new Uint8Array(await makePdf(1)) });
    expect(sealed.status).toBe(409);
    expect(((await sealed.json()) as { detail: string }).detail).toMatch(/national e-seal .* is valid from/);
    const detached = await post('/v1/ses/sign', { sealId: 'zrzy-expiring', sm3: '00'.repeat(32) });
    expect(detached.status).toBe(409);
    // CMS signatures with the seal's certificate are another matter: they do not carry the national seal
    await sealOk(svc, await makePdf(1), { sealId: 'zrzy-expiring' });
  });

  it('signs an SM3 hash detached, and verifies the signature against the document or its hash', async () => {
    const document = Buffer.from('<ofd:Document>某某市自然资源和规划局 批复</ofd:Document>');
    const sm3 = createHash('sm3').update(document).digest();
    const signed = await post('/v1/ses/sign', { sealId: 'zrzy-official', sm3: sm3.toString('hex'), propertyInfo: 'Doc_0/Signs/Sign_0/Signature.xml', timestamp: true });
    expect(signed.status, await signed.clone().text()).toBe(200);
    const signature = Buffer.from(((await signed.json()) as { signature: string }).signature, 'base64');
    const ses = parseSesSignature(signature);
    expect(ses.dataHash).toEqual(sm3);
    expect(ses.timeStamp).not.toBeNull();
    // the signature value, checked by openssl with the default SM2 ID over TBS_Sign
    const dir = tempDir('ses-detached');
    const file = (name: string): string => path.join(dir, name);
    writeFileSync(file('tbs.der'), ses.tbsDer);
    writeFileSync(file('sig.der'), ses.signatureValue);
    writeFileSync(file('signer.pem'), derToPem(ses.signerCertificate));
    execFileSync('openssl', ['x509', '-in', file('signer.pem'), '-pubkey', '-noout', '-out', file('pub.pem')]);
    const checked = spawnSync('openssl', ['pkeyutl', '-verify', '-rawin', '-digest', 'sm3', '-pubin', '-inkey', file('pub.pem'), '-pkeyopt', 'distid:1234567812345678', '-in', file('tbs.der'), '-sigfile', file('sig.der')], { encoding: 'utf8' });
    expect(checked.stdout).toContain('Signature Verified Successfully');

    const verify = async (body: Record<string, string>): Promise<SignatureReport> => {
      const res = await fetch(`${svc.url}/v1/ses/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ signature: signature.toString('base64'), ...body }) });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as SignatureReport;
    };
    const inputs: Array<Record<string, string>> = [{ document: document.toString('base64') }, { sm3: sm3.toString('hex') }];
    for (const body of inputs) {
      const report = await verify(body);
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({ indication: 'TOTAL_PASSED', seal: { id: 'zrzy-official' }, nationalSeal: { valid: true, makerTrusted: true, propertyInfo: 'Doc_0/Signs/Sign_0/Signature.xml' }, revocation: { checked: true, status: 'good' } });
      expect(report.timestamps[0]?.valid).toBe(true);
    }
    const changed = await verify({ document: Buffer.concat([document, Buffer.from(' ')]).toString('base64') });
    expect([changed.indication, changed.subIndication]).toEqual(['TOTAL_FAILED', 'HASH_FAILURE']);
    expect(changed.nationalSeal!.checks.find((c) => c.name === 'data-hash')?.passed).toBe(false);
  });

  it('answers clear errors: unreadable signatures 422, both or neither input 400, seals without a national e-seal 422, other clients 403', async () => {
    const unreadable = await fetch(`${svc.url}/v1/ses/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ signature: 'MAMCAQE=', sm3: '00'.repeat(32) }) });
    expect(unreadable.status).toBe(422);
    expect(((await unreadable.json()) as { type: string }).type).toMatch(/ses-signature-unreadable$/);
    const both = await fetch(`${svc.url}/v1/ses/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ signature: 'MAMCAQE=', sm3: '00'.repeat(32), document: 'AA==' }) });
    expect(both.status).toBe(400);
    const notNational = await post('/v1/ses/sign', { sealId: 'scjg-official', sm3: '00'.repeat(32) });
    expect(notNational.status).toBe(422);
    const badHash = await post('/v1/ses/sign', { sealId: 'zrzy-official', sm3: 'abc' });
    expect(badHash.status).toBe(400);
    const anonymous = await fetch(`${svc.url}/v1/ses/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sealId: 'zrzy-official', sm3: '00'.repeat(32) }) });
    expect(anonymous.status).toBe(401);
  });

});
