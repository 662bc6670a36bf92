import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

describe('OpenAPI', () => {
  it('describes the routes from the schemas that validate them, and has a readable page', async () => {
    const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; required: boolean; schema: { enum?: string[] } }>; requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const seal = doc.paths['/v1/seal']!.post!;
    expect(seal.parameters!.find((p) => p.name === 'sealId')!.required).toBe(true);
    expect(seal.parameters!.find((p) => p.name === 'level')!.schema.enum).toEqual(['B-B', 'B-T', 'B-LT', 'B-LTA']);
    expect(doc.paths['/v1/licenses']!.post!.requestBody!.content['application/json']!.schema.required).toEqual(['type', 'holder', 'fields']);
    // Reading a licence names its purpose; the holder proves itself with a licence's check code.
    for (const read of [doc.paths['/v1/licenses/{id}']!.get!, doc.paths['/v1/licenses/{id}/pdf']!.get!, doc.paths['/v1/licenses']!.get!]) expect(read.parameters!.find((p) => p.name === 'purpose')!.required).toBe(true);
    expect(doc.paths['/v1/holders/access-log']!.post!.requestBody!.content['application/json']!.schema.required).toEqual(['holderCode', 'licenseId', 'checkCode']);
    // Every route the service answers is in the document.
    for (const path of ['/v1/verify', '/v1/extend', '/v1/certificates/status', '/ocsp', '/v1/licenses/verify', '/v/{id}', '/metrics']) expect(Object.keys(doc.paths)).toContain(path);
    const page = await (await fetch(`${svc.url}/docs`)).text();
    expect(page).toContain('/v1/licenses/{id}/replace');
  });
});
