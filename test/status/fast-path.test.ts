import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derToPem } from '../../src/pki/pem.js';
import { MemoryStatusCache } from '../../src/revocation/cache.js';
import { parseCertificate, ParsedCertificates } from '../../src/revocation/parsed-certificates.js';
import { StatusChecker } from '../../src/revocation/status-checker.js';
import { parsedStatusKey, StatusService, statusKey } from '../../src/revocation/status-service.js';
import { startService, type RunningService } from '../helpers/service.js';

interface Item {
  subject: string;
  serialNumber: string;
  status: string;
  cached: boolean;
  stale: boolean;
  source?: string;
  reason?: number;
  detail: string;
}

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ PUBLIC_RATE_LIMIT: '0' });
});
afterAll(async () => svc?.close());

const seal = (id: string) => svc.service.devPki!.seals.find((s) => s.id === id)!;

async function askPem(body: string): Promise<{ text: string; items: Item[] }> {
  const res = await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/x-pem-file' }, body });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return { text, items: (JSON.parse(text) as { certificates: Item[] }).certificates };
}

describe('a cached status answer costs a lookup, not a parse', () => {
  it('parses each distinct certificate once and finds its issuer once', async () => {
    const parsed = svc.service.statusAnswers.certificates;
    const pem = derToPem(seal('scjg-official').chainDer[0]!);
    const first = await askPem(pem);
    expect(first.items[0]).toMatchObject({ status: 'good', cached: false, source: 'ocsp' });
    const parsesAfterFirst = parsed.parses;
    expect(parsesAfterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      const again = await askPem(pem);
      expect(again.items[0]).toMatchObject({ status: 'good', cached: true, stale: false, serialNumber: first.items[0]!.serialNumber });
    }
    expect(parsed.parses).toBe(parsesAfterFirst);
    // The issuer found for the certificate is remembered on its parsed form.
    const cert = parsed.get(seal('scjg-official').chainDer[0]!);
    expect(cert.issuer?.der.equals(svc.service.devPki!.sealCa.certDer)).toBe(true);
    expect(parsed.parses).toBe(parsesAfterFirst);
  });

  it('a certificate with its chain and the chain alone are each parsed once', async () => {
    const parsed = svc.service.statusAnswers.certificates;
    const chain = seal('xzsp-official').chainDer;
    const pem = chain.map((der) => derToPem(der)).join('');
    await askPem(pem);
    const before = parsed.parses;
    const { items } = await askPem(pem);
    expect(parsed.parses).toBe(before);
    // every certificate below the self-signed root gets its answer, in the order sent
    expect(items.map((i) => i.serialNumber)).toEqual(chain.slice(0, -1).map((der) => parseCertificate(der).serialHex));
  });

  it('the LRU keeps the most recently used certificates and parses an evicted one again', () => {
    let calls = 0;
    const cache = new ParsedCertificates(2, (der, hash) => {
      calls++;
      return parseCertificate(der, hash);
    });
    const [a, b, c] = [seal('scjg-official'), seal('scjg-approval'), seal('xzsp-official')].map((s) => s.chainDer[0]!) as [Buffer, Buffer, Buffer];
    cache.get(a);
    cache.get(b);
    cache.get(a); // a is now the most recent
    expect(calls).toBe(2);
    cache.get(c); // evicts b
    cache.get(a);
    expect(calls).toBe(3);
    cache.get(b);
    expect(calls).toBe(4);
    expect(cache.parses).toBe(4);
  });
});

describe('the answer JSON is written once, when the status is stored', () => {
  it('serves the stored string while fresh, and never a stale entry as a fresh answer', async () => {
    const pki = svc.service.devPki!;
    const unreachable = new StatusChecker({ timeoutMs: 300, fetchImpl: async () => { throw new Error('connection refused'); } });
    const cache = new MemoryStatusCache();
    const status = new StatusService(unreachable, cache, { maxTtlMs: 60_000, errorTtlMs: 1, staleGraceMs: 60_000 });
    const cert = parseCertificate(pki.seals[0]!.chainDer[0]!);
    const issuer = parseCertificate(pki.sealCa.certDer);
    const key = parsedStatusKey(cert, issuer);
    expect(key).toBe(statusKey(cert.der, issuer.der));
    // A stored answer whose JSON differs from what its evidence would give: if it is served
    // as is, nothing was re-serialised.
    const evidence = { checked: true, status: 'good' as const, source: 'ocsp' as const, detail: 'stored earlier' };
    const marker = '"status":"good","source":"ocsp","cached":true,"stale":false,"detail":"stored JSON, served as stored"';
    await cache.set(key, { evidence, fetchedAt: Date.now(), freshUntil: Date.now() + 30_000, answer: marker }, 60_000);
    expect(await status.statusJson(cert, issuer)).toBe(marker);

    // Past its freshness, with the responder unreachable: the old answer marked stale, not the stored JSON.
    await cache.set(key, { evidence, fetchedAt: Date.now() - 120_000, freshUntil: Date.now() - 1_000, answer: marker }, 60_000);
    const stale = JSON.parse(`{${await status.statusJson(cert, issuer)}}`) as Item;
    expect(stale).toMatchObject({ status: 'good', stale: true, cached: true, detail: 'stored earlier' });
  });

  it('a fresh fetch stores the answer JSON that the cache then serves', async () => {
    const pki = svc.service.devPki!;
    const cert = svc.service.statusAnswers.parse(seal('xzsp-approval').chainDer[0]!); // not asked about before
    const issuer = svc.service.statusAnswers.parse(pki.sealCa.certDer);
    const fetched = JSON.parse(`{${await svc.service.status.statusJson(cert, issuer)}}`) as Item;
    expect(fetched).toMatchObject({ status: 'good', cached: false, source: 'ocsp' });
    const cachedJson = await svc.service.status.statusJson(cert, issuer);
    expect(JSON.parse(`{${cachedJson}}`)).toEqual({ ...fetched, cached: true });
  });
});

describe('a revocation by this service', () => {
  it('forgets the cached status and the stored OCSP response at once', async () => {
    const pki = svc.service.devPki!;
    const der = seal('scjg-approval').chainDer[0]!;
    const { buildOcspRequest } = await import('../../src/revocation/ocsp.js');
    const request = buildOcspRequest(der, pki.sealCa.certDer).der;
    expect((await askPem(derToPem(der))).items[0]).toMatchObject({ status: 'good', cached: false });
    expect((await askPem(derToPem(der))).items[0]).toMatchObject({ status: 'good', cached: true });
    expect(await svc.service.status.cachedOcspResponse(request)).toBeDefined();
    const revoke = await fetch(`${svc.url}/v1/seals/scjg-approval/revoke`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' }, body: '{"reason":1}' });
    expect(revoke.status).toBe(200);
    expect(await svc.service.status.cachedOcspResponse(request)).toBeUndefined();
    expect((await askPem(derToPem(der))).items[0]).toMatchObject({ status: 'revoked', cached: false, reason: 1 });
  });
});
