import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derToPem } from '../../src/pki/pem.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

describe('GET /metrics', () => {
  it('counts requests with latencies, seals applied, verifications by indication and cache hits', async () => {
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'scjg-official' });
    await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(sealed) });
    const pem = derToPem(svc.service.devPki!.seals[1]!.chainDer[0]!);
    for (let i = 0; i < 3; i++) await fetch(`${svc.url}/v1/certificates/status`, { method: 'POST', body: pem });
    await fetch(`${svc.url}/v1/licenses/1.2.3?purpose=development`, { headers: { authorization: `Bearer ${svc.token}` } });
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).toMatch(/eseal_seals_applied_total\{level="B-B"\} 1/);
    expect(text).toMatch(/eseal_verifications_total\{indication="TOTAL_PASSED"\} 1/);
    expect(text).toMatch(/eseal_status_cache_lookups_total\{result="hit"\} [1-9]/);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/seal",status="200"\} 1/);
    expect(text).toMatch(/route="\/v1\/licenses\/:id",status="404"/);
    expect(text).not.toContain('1.2.3'); // identifiers never become label values
  });
});
