import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../helpers/service.js';

let svc: RunningService;
beforeAll(async () => {
  svc = await startService({ PUBLIC_RATE_LIMIT: '5' });
});
afterAll(async () => svc?.close());

describe('public routes are rate-limited', () => {
  it('answers 429 problem+json with Retry-After past the budget, and leaves authenticated routes alone', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${svc.url}/v/1.2.3?c=x`)).status);
    expect(statuses.slice(0, 5).every((s) => s === 400)).toBe(true); // a malformed identifier, answered until the budget is spent
    const limited = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/problem\+json/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const authed = await fetch(`${svc.url}/v1/seals`, { headers: { authorization: `Bearer ${svc.token}` } });
    expect(authed.status).toBe(200);
  });
});
