/**
 * Issuance with an Idempotency-Key: a retry after a lost answer, or a duplicate sent at the same
 * moment, gets the licence the first request produced, never a second licence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleBusinessLicence } from '../helpers/licences.js';
import { startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => svc?.close());

const licence = sampleBusinessLicence;

const issue = (body: unknown, key?: string): Promise<Response> =>
  fetch(`${svc.url}/v1/licenses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });

const licences = async (): Promise<number> => Number((await svc.service.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM licenses'))!.n);

describe('Idempotency-Key on issuance', () => {
  it('answers a retry with the first licence, and refuses the key for another request', async () => {
    const before = await licences();
    const first = await issue(licence('甲科技有限公司'), 'order-2026-0001');
    expect(first.status, await first.clone().text()).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const retry = await issue(licence('甲科技有限公司'), 'order-2026-0001');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(((await retry.json()) as { id: string }).id).toBe(id);
    expect(await licences()).toBe(before + 1);
    const other = await issue(licence('乙科技有限公司'), 'order-2026-0001');
    expect(other.status).toBe(422);
    expect(((await other.json()) as { type: string }).type).toMatch(/idempotency-key-reused/);
    expect((await issue(licence('甲科技有限公司'), 'bad key with spaces')).status).toBe(400);
    const audited = (await svc.service.audit.entries()).filter((e) => e.action === 'license.issue' && e.subject === id);
    expect(audited).toHaveLength(1);
  });

  it('gives two simultaneous requests with one key one licence', async () => {
    const before = await licences();
    const [a, b] = await Promise.all([issue(licence('丙科技有限公司'), 'order-2026-0002'), issue(licence('丙科技有限公司'), 'order-2026-0002')]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const ids = [((await a.json()) as { id: string }).id, ((await b.json()) as { id: string }).id];
    expect(ids[0]).toBe(ids[1]);
    expect(await licences()).toBe(before + 1);
  });
});
