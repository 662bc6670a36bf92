import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { derToPem } from '../../src/pki/pem.js';
import { startService, type RunningService } from '../helpers/service.js';

const services: RunningService[] = [];
afterAll(async () => {
  for (const svc of services) await svc.close();
});

async function askFrom(svc: RunningService, forwardedFor: string): Promise<number> {
  const res = await fetch(`${svc.url}/v1/certificates/status`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-pem-file', 'x-forwarded-for': forwardedFor },
    body: derToPem(svc.service.devPki!.seals[0]!.chainDer[0]!),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('TRUST_PROXY: the client address behind a load balancer', () => {
  it('is off by default: X-Forwarded-For is ignored, every request counts for the connecting address', async () => {
    const svc = await startService({ PUBLIC_RATE_LIMIT: '2' });
    services.push(svc);
    expect(await askFrom(svc, '203.0.113.1')).toBe(200);
    expect(await askFrom(svc, '203.0.113.2')).toBe(200);
    expect(await askFrom(svc, '203.0.113.3')).toBe(429); // a forged header does not buy a new budget
  });

  it.each(['loopback', '1'])('with TRUST_PROXY=%s, the address X-Forwarded-For names is limited', async (trustProxy) => {
    const svc = await startService({ PUBLIC_RATE_LIMIT: '2', TRUST_PROXY: trustProxy });
    services.push(svc);
    expect(await askFrom(svc, '198.51.100.7')).toBe(200);
    expect(await askFrom(svc, '198.51.100.7')).toBe(200);
    expect(await askFrom(svc, '198.51.100.7')).toBe(429);
    expect(await askFrom(svc, '198.51.100.8')).toBe(200); // another citizen behind the same balancer
    expect(await askFrom(svc, '192.0.2.9, 198.51.100.8')).toBe(200); // the balancer appends the address it saw
  });

  it('reads the setting: off, true, hop counts, addresses and subnets; refuses anything else', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.1' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    for (const bad of ['yes', '10.0.0.0/33', 'loopback,not-an-address', '::1/129']) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(ConfigError);
    expect(loadConfig({}).statusClientRateLimit).toBeGreaterThan(loadConfig({}).publicRateLimit);
  });
});
