import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, KEY_USAGE, validityYears } from '../../src/devpki/issue.js';
import { derToPem } from '../../src/pki/pem.js';
import { parseCertificate } from '../../src/revocation/parsed-certificates.js';
import { startService, type RunningService } from '../helpers/service.js';

interface Answer {
  serialNumber?: string;
  status?: string;
  cached?: boolean;
  detail?: string;
  error?: { type: string; title: string; status: number; detail: string };
}

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ PUBLIC_RATE_LIMIT: '0' });
});
afterAll(async () => svc?.close());

const seal = (id: string) => svc.service.devPki!.seals.find((s) => s.id === id)!;
const serial = (der: Buffer) => parseCertificate(der).serialHex;

async function batch(body: unknown): Promise<Response> {
  return fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('POST /v1/certificates/status with many certificates', () => {
  it('answers each item in order, with its own answer or its own error', async () => {
    const otherCa = await issueCertificate({ subject: [['CN', 'Batch Other CA']], keyKind: 'ec', ...validityYears(1), ca: {}, keyUsage: KEY_USAGE.keyCertSign });
    const stranger = await issueCertificate({ subject: [['CN', 'Batch Stranger']], keyKind: 'ec', ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature }, otherCa);
    const items = [
      derToPem(seal('scjg-official').chainDer[0]!), // PEM
      'this is not a certificate',
      seal('xzsp-official').chainDer[0]!.toString('base64'), // base64 DER
      derToPem(stranger.certDer), // its issuer is unknown to the service
      Buffer.from('not DER at all').toString('base64'),
      derToPem(seal('scjg-approval').chainDer[0]!) + derToPem(seal('scjg-approval').chainDer[1]!), // with its chain
    ];
    const res = await batch({ certificates: items });
    expect(res.status).toBe(200);
    const { certificates } = (await res.json()) as { certificates: Answer[] };
    expect(certificates).toHaveLength(items.length);
    expect(certificates[0]).toMatchObject({ serialNumber: serial(seal('scjg-official').chainDer[0]!), status: 'good' });
    expect(certificates[1]!.error).toMatchObject({ type: '/problems/invalid-certificate', status: 422 });
    expect(certificates[1]!.status).toBeUndefined();
    expect(certificates[2]).toMatchObject({ serialNumber: serial(seal('xzsp-official').chainDer[0]!), status: 'good' });
    expect(certificates[3]).toMatchObject({ serialNumber: serial(stranger.certDer), status: 'unknown' });
    expect(certificates[3]!.detail).toMatch(/issuer certificate is not known/);
    expect(certificates[4]!.error).toMatchObject({ type: '/problems/invalid-certificate', status: 422 });
    expect(certificates[5]).toMatchObject({ serialNumber: serial(seal('scjg-approval').chainDer[0]!), status: 'good' });
  });

  it('parses a certificate repeated in a batch once, and serves the repeats from the cache', async () => {
    const der = seal('xzsp-approval').chainDer[0]!;
    await batch({ certificates: [derToPem(der)] });
    const parsesBefore = svc.service.statusAnswers.certificates.parses;
    const res = await batch({ certificates: Array.from({ length: 100 }, () => derToPem(der)) });
    expect(res.status).toBe(200);
    const { certificates } = (await res.json()) as { certificates: Answer[] };
    expect(certificates).toHaveLength(100);
    expect(certificates.every((c) => c.status === 'good' && c.cached === true && c.serialNumber === serial(der))).toBe(true);
    expect(svc.service.statusAnswers.certificates.parses).toBe(parsesBefore);
  });

  it('refuses more than 100 certificates, an empty list, and bodies that are not the batch form', async () => {
    const pem = derToPem(seal('scjg-official').chainDer[0]!);
    const tooMany = await batch({ certificates: Array.from({ length: 101 }, () => pem) });
    expect(tooMany.status).toBe(413);
    expect(tooMany.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await tooMany.json()) as { type: string }).type).toBe('/problems/too-many-certificates');

    const empty = await batch({ certificates: [] });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { type: string }).type).toBe('/problems/invalid-request');

    const notStrings = await batch({ certificates: [42] });
    expect(notStrings.status).toBe(400);
    const notJson = await batch('{"certificates": [');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { type: string }).type).toBe('/problems/invalid-json');
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as { paths: Record<string, { post: { security: unknown[]; requestBody: { content: Record<string, { schema: { properties: { certificates: { maxItems: number; items: { type: string } } } } }> }; responses: Record<string, unknown> } }> };
    const status = doc.paths['/v1/certificates/status']!.post;
    expect(status.requestBody.content['application/json']!.schema.properties.certificates).toMatchObject({ maxItems: 100, items: { type: 'string' } });
    expect(Object.keys(status.requestBody.content)).toContain('application/x-pem-file');
    expect(status.security).toEqual([{}, { bearer: [] }]);
    for (const code of ['200', '401', '403', '413', '429']) expect(status.responses[code]).toBeDefined();
  });

  it('keeps the single form: PEM with its chain, and a DER body', async () => {
    const der = seal('scjg-official').chainDer[0]!;
    const asDer = await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', headers: { 'content-type': 'application/pkix-cert' }, body: new Uint8Array(der) });
    expect(asDer.status).toBe(200);
    expect(((await asDer.json()) as { certificates: Answer[] }).certificates).toEqual([expect.objectContaining({ serialNumber: serial(der), status: 'good' })]);
    const tooMany = await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', body: derToPem(der).repeat(21) });
    expect(tooMany.status).toBe(413);
  });
});
