import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, startService } from '../helpers/service.js';

describe('logs', () => {
  it('are JSON lines with the request facts, and hold no token, secret or full ID number', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const svc = await startService({ LOG_LEVEL: 'debug' }, undefined, { logger: createLogger('debug', sink) });
    const idNumber = '440524188001010014';
    let licenseSecret = '';
    try {
      const auth = { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' };
      await sealOk(svc, await makePdf(1), { sealId: 'scjg-official' });
      const issued = await fetch(`${svc.url}/v1/licenses`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '赵小六', code: idNumber, codeType: '111' }, fields: { matter: '设立登记', applicationNumber: 'SQ7', receivedOn: '2026-11-25', promisedDays: 3 } }),
      });
      expect(issued.status).toBe(201);
      expect((await fetch(`${svc.url}/v1/licenses?holderCode=${idNumber}&purpose=development`, { headers: auth })).status).toBe(200);
      expect((await fetch(`${svc.url}/v1/licenses`, { method: 'POST', headers: auth, body: JSON.stringify({ type: 'acceptance-notice', holder: { name: 'x', code: idNumber.slice(0, 17) + '0' } }) })).status).toBe(400);
      expect((await fetch(`${svc.url}/v1/seal?sealId=scjg-official`, { method: 'POST', headers: { authorization: 'Bearer esk_wrongtoken', 'content-type': 'application/pdf' }, body: 'x' })).status).toBe(401);
      licenseSecret = (await svc.service.db.get<{ value: string }>("SELECT value FROM service_secrets WHERE name = 'license-check-code'"))!.value;
    } finally {
      await svc.close();
    }
    const records = lines.map((l) => JSON.parse(l) as { level: number; time: number; msg: string; path?: string; status?: number });
    expect(records.every((r) => typeof r.level === 'number' && typeof r.time === 'number' && typeof r.msg === 'string')).toBe(true);
    expect(records.filter((r) => r.msg === 'request').map((r) => `${r.path} ${r.status}`)).toEqual(expect.arrayContaining(['/v1/seal 200', '/v1/licenses 201', '/v1/licenses 200', '/v1/licenses 400', '/v1/seal 401']));
    const all = lines.join('\n');
    const secrets = [svc.token, 'esk_wrongtoken', idNumber, idNumber.slice(0, 17), readFileSync(path.join(svc.dataDir, 'keystore-password'), 'utf8').trim(), licenseSecret];
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
