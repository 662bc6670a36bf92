import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, KEY_USAGE, validityYears, EXTENDED_KEY_USAGE, type Issued } from '../../src/devpki/issue.js';
import { DevOcspResponder } from '../../src/devpki/ocsp-responder.js';
import { derToPem } from '../../src/pki/pem.js';
import { buildOcspRequest } from '../../src/revocation/ocsp.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

let a: RunningService;
let b: RunningService;
const dir = tempDir('proxy');

beforeAll(async () => {
  b = await startService({}, tempDir('other-ca'), { reachable: true }); // another CA, with its own responder
  a = await startService({ REVOCATION_TIMEOUT_MS: '700' });
  const other = b.service.devPki!;
  writeFileSync(path.join(dir, 'b-ca.pem'), derToPem(other.sealCa.certDer));
  writeFileSync(path.join(dir, 'b-root.pem'), derToPem(other.root.certDer));
  writeFileSync(path.join(dir, 'b-seal.pem'), derToPem(other.seals[0]!.chainDer[0]!));
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

async function opensslOcsp(url: string): Promise<string> {
  const result = await promisify(execFile)('openssl', ['ocsp', '-no_nonce', '-issuer', path.join(dir, 'b-ca.pem'), '-cert', path.join(dir, 'b-seal.pem'), '-url', url, '-CAfile', path.join(dir, 'b-root.pem'), '-verify_other', path.join(dir, 'b-ca.pem')], { encoding: 'utf8', timeout: 20_000 }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }));
  return `${result.stdout}${result.stderr}`;
}

async function status(body: string): Promise<{ status: string; source?: string; cached: boolean; detail: string }> {
  const res = await fetch(`${a.url}/v1/certificates/status`, { method: 'POST', body });
  expect(res.status).toBe(200);
  return ((await res.json()) as { certificates: Array<{ status: string; source?: string; cached: boolean; detail: string }> }).certificates[0]!;
}

describe('/ocsp for other CAs: the original responses from the cache', () => {
  it('says unauthorized before anyone asked, then serves the responder’s own signed answer', async () => {
    expect(await opensslOcsp(`${a.url}/ocsp`)).toMatch(/unauthorized/i);
    const chain = derToPem(b.service.devPki!.seals[0]!.chainDer[0]!) + derToPem(b.service.devPki!.sealCa.certDer);
    expect(await status(chain)).toMatchObject({ status: 'good', source: 'ocsp', cached: false });
    const out = await opensslOcsp(`${a.url}/ocsp`);
    expect(out).toMatch(/Response verify OK/);
    expect(out).toMatch(/b-seal\.pem: good/);
  });

  it('serves the stored response bytes as they are, by POST and GET, whatever nonce the request carries', async () => {
    const other = b.service.devPki!;
    const [cert, issuer] = [other.seals[0]!.chainDer[0]!, other.sealCa.certDer];
    const first = buildOcspRequest(cert, issuer).der;
    const second = buildOcspRequest(cert, issuer).der; // another nonce
    expect(first.equals(second)).toBe(false);
    const stored = await a.service.status.cachedOcspResponse(first);
    expect(stored).toBeDefined();
    const post = async (request: Buffer) => {
      const res = await fetch(`${a.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(request) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/ocsp-response');
      return Buffer.from(await res.arrayBuffer());
    };
    const answers = [await post(first), await post(second), await post(first)];
    const viaGet = Buffer.from(await (await fetch(`${a.url}/ocsp/${encodeURIComponent(first.toString('base64'))}`)).arrayBuffer());
    for (const answer of [...answers, viaGet]) expect(answer.equals(stored!)).toBe(true);

    // The bytes served are the responder's own signed response: openssl accepts them.
    const file = path.join(dir, 'served.der');
    writeFileSync(file, answers[1]!);
    const { stdout, stderr } = await promisify(execFile)('openssl', ['ocsp', '-respin', file, '-no_nonce', '-issuer', path.join(dir, 'b-ca.pem'), '-cert', path.join(dir, 'b-seal.pem'), '-CAfile', path.join(dir, 'b-root.pem'), '-verify_other', path.join(dir, 'b-ca.pem')], { encoding: 'utf8', timeout: 20_000 });
    expect(`${stdout}${stderr}`).toMatch(/Response verify OK/);
    expect(stdout).toMatch(/b-seal\.pem: good/);
    expect(readFileSync(file).equals(stored!)).toBe(true);
  });
});

describe('responders that misbehave', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => {
    s.closeAllConnections();
    s.close();
  }));

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocsp`;
  }

  async function certWithResponder(url: string): Promise<{ leaf: Issued; ca: Issued }> {
    const root = await issueCertificate({ subject: [['CN', 'Misbehaving Root']], keyKind: 'ec', ...validityYears(1), ca: {}, keyUsage: KEY_USAGE.keyCertSign });
    const leaf = await issueCertificate({ subject: [['CN', 'Leaf']], keyKind: 'ec', ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature, ocspUrl: url }, root);
    return { leaf, ca: root };
  }

  it('garbage, a wrong signing key, and a responder too slow to answer: unknown, never a wrong "good"', async () => {
    const garbage = await certWithResponder(await serve((_req, res) => res.end('this is not an OCSP response')));
    const g = await status(derToPem(garbage.leaf.certDer) + derToPem(garbage.ca.certDer));
    expect(g.status).toBe('unknown');

    const impostorRoot = await issueCertificate({ subject: [['CN', 'Impostor']], keyKind: 'ec', ...validityYears(1), ca: {}, keyUsage: KEY_USAGE.keyCertSign });
    const impostorSigner = await issueCertificate({ subject: [['CN', 'Impostor OCSP']], keyKind: 'ec', ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature, extendedKeyUsage: { usages: [EXTENDED_KEY_USAGE.ocspSigning], critical: true } }, impostorRoot);
    let target: Issued | undefined;
    const wrongKeyUrl = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // Claims "good" for the right certificate, but signed by a key the CA never authorised.
        const responder = new DevOcspResponder(impostorSigner, [target!.certDer], async () => ({ status: 'good' }));
        void responder.respond(Buffer.concat(chunks)).then((answer) => res.end(answer));
      });
    });
    const wrong = await certWithResponder(wrongKeyUrl);
    target = wrong.ca;
    const w = await status(derToPem(wrong.leaf.certDer) + derToPem(wrong.ca.certDer));
    expect(w.status).toBe('unknown');

    // never answers: without the fetch's own time limit this request would hang the test
    const slow = await certWithResponder(await serve(() => undefined));
    const s = await status(derToPem(slow.leaf.certDer) + derToPem(slow.ca.certDer));
    expect(s.status).toBe('unknown');
    expect((await status(derToPem(slow.leaf.certDer) + derToPem(slow.ca.certDer))).cached).toBe(true); // the failure is remembered
  });
});
