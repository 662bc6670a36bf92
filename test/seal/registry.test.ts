import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSealCertificate } from '../../src/devpki/issue.js';
import { readPkcs12 } from '../../src/pki/pfx.js';
import { SEAL_PURPOSE, type SealType } from '../../src/seals/seal-types.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, tempDir, writeTemp } from '../helpers/tools.js';

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

const auth = () => ({ authorization: `Bearer ${svc.token}` });

/**
 * A seal certificate issued by the dev seal CA for a seal type (its certificate policy), packed
 * into a PKCS#12 file by openssl (so the file format comes from an independent writer).
 */
async function opensslPkcs12(password: string, sealType: SealType = 'contract'): Promise<Buffer> {
  const dir = tempDir('p12');
  const pki = path.join(svc.dataDir, 'pki');
  const { privateKey: caKey, chainDer } = readPkcs12(readFileSync(path.join(pki, 'seal-ca.p12')), readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim());
  const issued = await issueSealCertificate({ orgName: '某某市财政局', uscc: '11370500MB0100003P', sealName: SEAL_PURPOSE[sealType] ?? '', sealTypes: [sealType], keyKind: 'ec', baseUrl: svc.url }, { certDer: chainDer[0]!, privateKey: caKey });
  const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  writeFileSync(path.join(dir, 'k.pem'), issued.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(path.join(dir, 'c.pem'), pem(issued.certDer));
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', path.join(dir, 'k.pem'), '-in', path.join(dir, 'c.pem'), '-certfile', path.join(pki, 'seal-ca.pem'), '-passout', `pass:${password}`, '-out', path.join(dir, 'seal.p12')]);
  return readFileSync(path.join(dir, 'seal.p12'));
}

describe('seal registry', () => {
  it('lists the sample seals with their certificate chains, leaf first', async () => {
    const res = await fetch(`${svc.url}/v1/seals`, { headers: auth() });
    expect(res.status).toBe(200);
    const { seals } = (await res.json()) as { seals: Array<{ id: string; name: string; sealType: string; certificateChain: string[]; permitted: boolean }> };
    expect(seals.map((s) => s.id).sort()).toEqual(['scjg-approval', 'scjg-official', 'xzsp-approval', 'xzsp-official', 'zrzy-official']);
    const approval = seals.find((s) => s.id === 'scjg-approval')!;
    expect(approval.name).toBe('某某市市场监督管理局审批专用章');
    expect(approval.permitted).toBe(true);
    const [leaf, ca] = approval.certificateChain.map((pem) => new X509Certificate(pem));
    expect(leaf!.checkIssued(ca!)).toBe(true);
    expect(leaf!.subject).toContain('审批专用章');
    const one = await fetch(`${svc.url}/v1/seals/xzsp-official`, { headers: auth() });
    expect(((await one.json()) as { orgUscc: string }).orgUscc).toBe('11370500MB0100002L');
    const image = await fetch(`${svc.url}/v1/seals/xzsp-official/image.png`, { headers: auth() });
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });

  it('registers a seal from an openssl PKCS#12 file and seals with it', async () => {
    const body = { id: 'finance-contract', orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract', pkcs12: (await opensslPkcs12('s3cret pass')).toString('base64'), password: 's3cret pass' };
    const res = await fetch(`${svc.url}/v1/seals`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(201);
    const seal = (await res.json()) as { name: string; keyStorage: string };
    expect(seal.name).toBe('某某市财政局合同专用章');
    expect(seal.keyStorage).toBe('pkcs12');
    // The key is re-wrapped under the service's keystore password; the uploader's is not kept.
    const stored = await svc.service.db.get<{ pkcs12: Buffer }>('SELECT pkcs12 FROM seal_keystores WHERE seal_id = ?', ['finance-contract']);
    expect(() => readPkcs12(stored!.pkcs12, 's3cret pass')).toThrow();
    const rewrapped = readPkcs12(stored!.pkcs12, readFileSync(path.join(svc.dataDir, 'keystore-password'), 'utf8').trim());
    expect(rewrapped.chainDer.length).toBeGreaterThan(0);
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'finance-contract' });
    const sig = pdfsig(writeTemp('p12.pdf', sealed), nssDbWithRoot(svc.rootPem))[0]!;
    expect(sig.signatureValid && sig.certificateTrusted, sig.raw).toBe(true);
  });

  it('rejects a wrong password, a bad USCC, a duplicate id and a non-admin caller', async () => {
    const p12 = (await opensslPkcs12('right')).toString('base64');
    const post = (body: object, headers: Record<string, string> = auth()) =>
      fetch(`${svc.url}/v1/seals`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const base = { orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract', pkcs12: p12, password: 'right' };
    const wrong = await post({ ...base, password: 'wrong' });
    expect(wrong.status).toBe(422);
    expect(((await wrong.json()) as { code: string }).code).toBe('BAD_PASSWORD');
    const uscc = await post({ ...base, orgUscc: '11370500MB0100003Q' });
    expect(uscc.status).toBe(422);
    expect(((await uscc.json()) as { field: string }).field).toBe('orgUscc');
    const garbage = await post({ ...base, pkcs12: Buffer.from('garbage').toString('base64') });
    expect(garbage.status).toBe(422);
    const dup = await post({ ...base, id: 'scjg-official' });
    expect(dup.status).toBe(422);
    const { token } = await svc.service.clients.create('sealer', ['seal'], []);
    expect((await post(base, { authorization: `Bearer ${token}` })).status).toBe(403);
    expect((await post({ ...base, sealType: 'stamp' })).status).toBe(400);
    // ids that no sealing request could name, or that could not be recorded
    for (const id of ['', 'nul\u0000inside', 'line\nbreak', ' padded', 'x'.repeat(65), 'bidi\u202eoverride', 'half \ud83d of a pair']) {
      const refused = await post({ ...base, id });
      expect(refused.status, id).toBe(400);
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
    }
    expect(await svc.service.db.get("SELECT id FROM seals WHERE org_name = '某某市财政局' AND id <> 'finance-contract'")).toBeUndefined();
  });

  it('ties a seal to its certificate: the organisation and code it names, and one active seal per certificate', async () => {
    const p12 = (await opensslPkcs12('right')).toString('base64');
    const post = (body: object) => fetch(`${svc.url}/v1/seals`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const base = { orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'contract', pkcs12: p12, password: 'right' };
    // another authority's name (and its valid code) over this certificate: refused, naming why
    const spoofed = await post({ ...base, id: 'spoofed', orgName: '某某市公安局', orgUscc: '11370500MB0100001H' });
    expect(spoofed.status).toBe(422);
    const problem = (await spoofed.json()) as { field: string; detail: string };
    expect(problem.field).toBe('orgName');
    expect(problem.detail).toMatch(/某某市财政局/);
    const first = await post({ ...base, id: 'finance-contract-1' });
    expect(first.status, await first.clone().text()).toBe(201);
    const second = await post({ ...base, id: 'finance-contract-2' });
    expect(second.status).toBe(422);
    expect(((await second.json()) as { detail: string }).detail).toMatch(/already registered as the seal "finance-contract-1"/);
    // once the seal is revoked, its certificate does not come back under another seal
    expect((await fetch(`${svc.url}/v1/seals/finance-contract-1/revoke`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    const again = await post({ ...base, id: 'finance-contract-3' });
    expect(again.status).toBe(422);
    expect(((await again.json()) as { detail: string }).detail).toMatch(/already registered as the seal "finance-contract-1" \(revoked\)/);
  });
});

describe('uploaded seal images', () => {
  it('uses an uploaded transparent PNG and refuses an opaque one', async () => {
    const { createCanvas } = await import('@napi-rs/canvas');
    const draw = (transparent: boolean): string => {
      const canvas = createCanvas(200, 200);
      const ctx = canvas.getContext('2d');
      if (!transparent) {
        ctx.fillStyle = 'white';
        ctx.fillRect(0, 0, 200, 200);
      }
      ctx.strokeStyle = 'rgb(230,0,18)';
      ctx.lineWidth = 12;
      ctx.beginPath();
      ctx.arc(100, 100, 90, 0, Math.PI * 2);
      ctx.stroke();
      return canvas.toBuffer('image/png').toString('base64');
    };
    const post = async (id: string, image: string) =>
      fetch(`${svc.url}/v1/seals`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ id, orgName: '某某市财政局', orgUscc: '11370500MB0100003P', sealType: 'finance', pkcs12: (await opensslPkcs12('pw', 'finance')).toString('base64'), password: 'pw', image }),
      });
    const opaque = await post('finance-opaque', draw(false));
    expect(opaque.status).toBe(422);
    expect(((await opaque.json()) as { field: string }).field).toBe('image');
    const ok = await post('finance-custom', draw(true));
    expect(ok.status).toBe(201);
    const image = await fetch(`${svc.url}/v1/seals/finance-custom/image.png`, { headers: auth() });
    expect(Buffer.from(await image.arrayBuffer()).toString('base64')).toBe(draw(true));
  });
});

describe('embedded default across restarts', () => {
  it('keeps the same PKI, seals and token, and keeps keys out of reach', async () => {
    const dataDir = tempDir('restart');
    const first = await startService({}, dataDir);
    const root1 = createHash('sha256').update(first.rootPem).digest('hex');
    const seals1 = (await first.service.seals.list()).map((s) => s.chainPem[0]);
    await first.close();
    const second = await startService({}, dataDir);
    try {
      expect(createHash('sha256').update(second.rootPem).digest('hex')).toBe(root1);
      expect((await second.service.seals.list()).map((s) => s.chainPem[0])).toEqual(seals1);
      expect(second.token).toBe(first.token);
      expect(second.service.newDevToken).toBeUndefined();
      const res = await fetch(`${second.url}/v1/seals`, { headers: { authorization: `Bearer ${second.token}` } });
      expect(res.status).toBe(200);
      expect(statSync(path.join(dataDir, 'dev-api-token')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(dataDir, 'pki')).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(dataDir, 'pki', 'seal-ca.p12')).mode & 0o777).toBe(0o600);
      if (!second.databaseUrl) {
        // the data dir existed before the first start (tempDir made it): the database is still owner-only
        for (const f of ['eseal.sqlite', 'eseal.sqlite-wal']) expect(statSync(path.join(dataDir, f)).mode & 0o777, f).toBe(0o600);
      }
      const crl = await fetch(`${second.url}/pki/seal-ca.crl`);
      const crlFile = writeTemp('ca.crl', Buffer.from(await crl.arrayBuffer()));
      const out = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', path.join(dataDir, 'pki', 'seal-ca.pem'), '-noout'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toBe('');
    } finally {
      await second.close();
    }
  });
});
