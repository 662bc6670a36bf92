import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOcspRequest, checkOcspSigner, parseOcspResponse } from '../../src/revocation/ocsp.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

let svc: RunningService;
const dir = tempDir('ocsp');
const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;

beforeAll(async () => {
  svc = await startService();
  const pki = svc.service.devPki!;
  writeFileSync(path.join(dir, 'ca.pem'), pem(pki.sealCa.certDer));
  writeFileSync(path.join(dir, 'root.pem'), pem(pki.root.certDer));
  for (const seal of pki.seals) writeFileSync(path.join(dir, `${seal.id}.pem`), pem(seal.chainDer[0]!));
});
afterAll(async () => svc?.close());

/** Runs openssl ocsp asynchronously: the responder is served by this same process. */
async function opensslOcsp(sealId: string): Promise<string> {
  const result = await promisify(execFile)('openssl', ['ocsp', '-issuer', path.join(dir, 'ca.pem'), '-cert', path.join(dir, `${sealId}.pem`), '-url', `${svc.url}/ocsp`, '-CAfile', path.join(dir, 'root.pem'), '-verify_other', path.join(dir, 'ca.pem')], { encoding: 'utf8', timeout: 20_000 });
  return `${result.stdout}${result.stderr}`;
}

describe('the development OCSP responder', () => {
  it('answers openssl ocsp: good, then revoked after the seal is revoked', async () => {
    const good = await opensslOcsp('scjg-approval');
    expect(good).toMatch(/Response verify OK/);
    expect(good).toMatch(/scjg-approval\.pem: good/);
    const res = await fetch(`${svc.url}/v1/seals/scjg-approval/revoke`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 1 }) });
    expect(res.status).toBe(200);
    const revoked = await opensslOcsp('scjg-approval');
    expect(revoked).toMatch(/Response verify OK/);
    expect(revoked).toMatch(/scjg-approval\.pem: revoked/);
    expect(revoked).toMatch(/Reason: keyCompromise/);
    expect(await opensslOcsp('xzsp-official')).toMatch(/xzsp-official\.pem: good/);
  });

  it('answers GET requests, echoes the nonce, and says malformed for garbage', async () => {
    const pki = svc.service.devPki!;
    const { der, nonce } = buildOcspRequest(pki.seals[2]!.chainDer[0]!, pki.sealCa.certDer);
    const res = await fetch(`${svc.url}/ocsp/${encodeURIComponent(der.toString('base64'))}`);
    expect(res.headers.get('content-type')).toBe('application/ocsp-response');
    const parsed = parseOcspResponse(Buffer.from(await res.arrayBuffer()));
    expect(parsed.responses[0]!.status).toBe('good');
    expect(parsed.nonce?.equals(nonce)).toBe(true);
    expect(checkOcspSigner(parsed, pki.sealCa.certDer)).toBeNull();
    expect(checkOcspSigner(parsed, pki.root.certDer)).not.toBeNull(); // not authorised by another CA
    const bad = await fetch(`${svc.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'garbage' });
    expect(parseOcspResponse(Buffer.from(await bad.arrayBuffer())).responseStatus).toBe(1);
    writeFileSync(path.join(dir, 'req.der'), der);
    expect(execFileSync('openssl', ['ocsp', '-reqin', path.join(dir, 'req.der'), '-req_text'], { encoding: 'utf8' })).toMatch(/Serial Number/);
  });
});
