import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDerList } from '../../src/pki/pem.js';
import { finalizeModules, RESCAN_INTERVAL_MS } from '../../src/pki/pkcs11/module.js';
import { makePdf } from '../helpers/pdfs.js';
import { SAMPLE_SEALS } from '../../src/bootstrap.js';
import { sealRequest, startService, type RunningService } from '../helpers/service.js';
import { nssDbWithRoot, pdfsig, writeTemp } from '../helpers/tools.js';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from './softhsm.js';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');
const PIN = '97531';

let hsm: SoftHsm;
let serial: string;
let svc: RunningService;

beforeAll(async () => {
  hsm = createSoftHsm();
  serial = hsm.initToken('city-hsm', PIN);
  process.env.CITY_HSM_PIN = PIN; // the service in this process reads the PIN as it would in production
  svc = await startService();
});
afterAll(async () => {
  await svc?.close();
  finalizeModules();
});

/** Runs `npm run hsm -- ...args` as an operator would, against the service's data dir. */
async function hsmCli(args: string[], pin = PIN, extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  // vitest sets BASE_URL for its own use; the service configuration would read it.
  const { BASE_URL: _ignored, ...env } = process.env;
  try {
    const { stdout, stderr } = await run(TSX, ['src/cli/hsm.ts', ...args], { env: { ...env, DATA_DIR: svc.dataDir, SOFTHSM2_CONF: hsm.conf, CITY_HSM_PIN: pin, ...extraEnv } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Each test runs the CLI (through tsx) several times; on a loaded 2-core machine one run can take 10 s. */
const CLI_TEST_TIMEOUT_MS = 180_000;

const TOKEN = ['--module', SOFTHSM_MODULE, '--token', 'city-hsm', '--pin-env', 'CITY_HSM_PIN'];
const SEAL = ['--org', '某某市住房和城乡建设局', '--uscc', '11370500MB0100003P', '--seal-type', 'approval'];

describe('npm run hsm', () => {
  it('generates a key in the token, requests, issues and registers its certificate; the service seals with it and survives the token going away', async () => {
    const keygen = await hsmCli(['keygen', ...TOKEN, '--label', 'zjj-approval', '--type', 'rsa-2048']);
    expect(keygen.code, keygen.stderr).toBe(0);
    const generated = JSON.parse(keygen.stdout) as { key: { label: string; id: string }; publicKey: string };
    expect(generated.key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(generated.publicKey).toContain('BEGIN PUBLIC KEY');

    const csrFile = path.join(hsm.dir, 'seal.csr');
    const csr = await hsmCli(['csr', ...TOKEN, '--key-id', generated.key.id, ...SEAL, '--out', csrFile]);
    expect(csr.code, csr.stderr).toBe(0);
    expect(spawnSync('openssl', ['req', '-in', csrFile, '-verify', '-noout'], { encoding: 'utf8' }).stderr).toContain('verify OK');

    const chainFile = path.join(hsm.dir, 'chain.pem');
    const issue = await hsmCli(['dev-issue', '--csr', csrFile, '--seal-type', 'approval', '--out', chainFile]);
    expect(issue.code, issue.stderr).toBe(0);
    expect(pemToDerList(readFileSync(chainFile, 'utf8'))).toHaveLength(3);

    const register = await hsmCli(['register', ...TOKEN, '--key-label', 'zjj-approval', ...SEAL, '--id', 'zjj-approval', '--cert', chainFile]);
    expect(register.code, register.stderr).toBe(0);
    expect(JSON.parse(register.stdout)).toMatchObject({ id: 'zjj-approval', name: '某某市住房和城乡建设局审批专用章', keyStorage: 'pkcs11' });
    const audit = await svc.service.db.get<{ actor: string; details: string }>("SELECT actor, details FROM audit_log WHERE action = 'seal.register' AND subject = 'zjj-approval'");
    expect(audit?.actor).toBe('cli');
    expect(JSON.parse(audit!.details)).toMatchObject({ keyStorage: 'pkcs11', token: { label: 'city-hsm' } });

    const listed = await fetch(`${svc.url}/v1/seals/zjj-approval`, { headers: { authorization: `Bearer ${svc.token}` } });
    expect(((await listed.json()) as { keyStorage: string }).keyStorage).toBe('pkcs11');

    const { token } = await svc.service.clients.create('housing approvals', ['seal'], ['zjj-approval']);
    const pdf = await makePdf(1);
    const sealed = await sealRequest(svc, pdf, { sealId: 'zjj-approval' }, token);
    expect(sealed.status, await sealed.clone().text()).toBe(200);
    const [sig] = pdfsig(writeTemp('token-sealed.pdf', Buffer.from(await sealed.arrayBuffer())), nssDbWithRoot(svc.rootPem));
    expect(sig!.signatureValid, sig!.raw).toBe(true);
    expect(sig!.certificateTrusted, sig!.raw).toBe(true);

    const plugBack = hsm.unplug(serial);
    const unavailable = await sealRequest(svc, pdf, { sealId: 'zjj-approval' }, token);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('content-type')).toContain('application/problem+json');
    expect(unavailable.headers.get('retry-after')).toBe('5');
    expect(await unavailable.json()).toMatchObject({ type: '/problems/seal-key-unavailable', title: "The seal's key is not available", code: 'token_missing' });
    const readyWithout = (await (await fetch(`${svc.url}/readyz`, { headers: { authorization: `Bearer ${svc.token}` } })).json()) as { status: string; checks: { keys: string } };
    expect(readyWithout.status).toBe('degraded');
    expect(readyWithout.checks.keys).toMatch(/^degraded: zjj-approval: token "city-hsm" is not present/);

    plugBack();
    await new Promise((resolve) => setTimeout(resolve, RESCAN_INTERVAL_MS + 50));
    const again = await sealRequest(svc, pdf, { sealId: 'zjj-approval' }, token);
    expect(again.status, await again.clone().text()).toBe(200);
    expect(((await (await fetch(`${svc.url}/readyz`)).json()) as { checks: { keys: string } }).checks.keys).toBe(`ok (${SAMPLE_SEALS.length + 1} seals)`); // the samples and this token seal
  }, CLI_TEST_TIMEOUT_MS);

  it('says what is wrong: a refused PIN, a missing token, a key that is not the certificate’s', async () => {
    const mismatchAfterKeygen = async () => {
      const other = await hsmCli(['keygen', ...TOKEN, '--label', 'other', '--type', 'ec-p256']);
      expect(other.code, other.stderr).toBe(0);
      return hsmCli(['register', ...TOKEN, '--key-label', 'other', ...SEAL, '--id', 'wrong-key', '--cert', path.join(hsm.dir, 'chain.pem')]);
    };
    const garbageCsr = path.join(hsm.dir, 'garbage.csr');
    writeFileSync(garbageCsr, '-----BEGIN CERTIFICATE REQUEST-----\nAAECAwQF\n-----END CERTIFICATE REQUEST-----\n');
    const [wrongPin, noToken, mismatch, usage, devIssueInProduction, unreadableCsr] = await Promise.all([
      hsmCli(['keygen', ...TOKEN, '--label', 'never'], '00000'),
      hsmCli(['keygen', '--module', SOFTHSM_MODULE, '--token', 'elsewhere', '--pin-env', 'CITY_HSM_PIN', '--label', 'never']),
      mismatchAfterKeygen(),
      hsmCli(['register', ...TOKEN, ...SEAL]),
      hsmCli(['dev-issue', '--csr', path.join(hsm.dir, 'any.csr'), '--seal-type', 'approval'], PIN, { DEV_PKI: 'false' }),
      hsmCli(['dev-issue', '--csr', garbageCsr, '--seal-type', 'approval']),
    ]);
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toMatch(/token "city-hsm" refused the PIN \(CKR_PIN_INCORRECT\)/);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/token "elsewhere" is not present/);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/is not the key of the seal's certificate/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/name the key by label or id/);
    expect(devIssueInProduction.code).toBe(2);
    expect(devIssueInProduction.stderr).toMatch(/dev-issue is for development only/);
    expect(unreadableCsr.code).toBe(1);
    expect(unreadableCsr.stderr).toMatch(/^hsm: the certificate request cannot be read/);
    expect(unreadableCsr.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  }, CLI_TEST_TIMEOUT_MS);
});
