/**
 * The seal registry tied to certificates, on both storage engines: the certificate's policies
 * (through the configured mapping) must allow the seal type, a certificate is registered once
 * however it is packaged or however many registrations race, and revoking a seal revokes every
 * registration of its certificate.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, issueSealCertificate, KEY_USAGE, validityYears, type Issued } from '../../src/devpki/issue.js';
import { DEV_SEAL_TYPE_POLICY } from '../../src/devpki/seal-policies.js';
import { readCertFields } from '../../src/pki/cert-fields.js';
import { readPkcs12, writePkcs12 } from '../../src/pki/pfx.js';
import { certificateSubject } from '../../src/seals/certificate-subject.js';
import { loadSealTypePolicies } from '../../src/seals/seal-type-policies.js';
import type { SealType } from '../../src/seals/seal-types.js';
import type { ValidationReport } from '../../src/validation/report.js';
import { makePdf } from '../helpers/pdfs.js';
import { sealOk, sealRequest, startService, type RunningService } from '../helpers/service.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const ORG = '某某市财政局';
const USCC = '11370500MB0100003P';
const ANY_POLICY = '2.5.29.32.0';

let svc: RunningService;
/** The same service with SEAL_TYPE_POLICIES naming a mapping of its own. */
let configured: RunningService;

beforeAll(async () => {
  const builtIn = loadSealTypePolicies();
  const mappingFile = path.join(tempDir('seal-type-mapping'), 'seal-types.json');
  writeFileSync(
    mappingFile,
    JSON.stringify({
      policies: { ...builtIn.policies, [DEV_SEAL_TYPE_POLICY.contract]: ['contract', 'official'], [ANY_POLICY]: ['business'] },
      withoutPolicies: ['finance'],
    }),
  );
  svc = await startService();
  configured = await startService({ SEAL_TYPE_POLICIES: mappingFile });
});
afterAll(async () => {
  await configured?.close();
  await svc?.close();
});

const admin = (service: RunningService) => ({ authorization: `Bearer ${service.token}`, 'content-type': 'application/json' });

function sealCa(service: RunningService): Issued {
  const pki = path.join(service.dataDir, 'pki');
  const { privateKey, chainDer } = readPkcs12(readFileSync(path.join(pki, 'seal-ca.p12')), readFileSync(path.join(pki, 'keystore-password'), 'utf8').trim());
  return { certDer: chainDer[0]!, privateKey };
}

/** A seal certificate of the service's development CA: for `sealTypes` (their policies), or with exactly `policies`. */
async function sealCertificate(service: RunningService, issuedFor: { sealTypes?: SealType[]; policies?: string[] }): Promise<Issued> {
  const ca = sealCa(service);
  if (issuedFor.policies) {
    return issueCertificate({ subject: certificateSubject(ORG, USCC, ''), keyKind: 'ec', ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation, policies: issuedFor.policies }, ca);
  }
  return issueSealCertificate({ orgName: ORG, uscc: USCC, sealName: '', keyKind: 'ec', baseUrl: service.url, ...(issuedFor.sealTypes ? { sealTypes: issuedFor.sealTypes } : {}) }, ca);
}

function pkcs12(service: RunningService, issued: Issued, password = 'transfer'): string {
  return writePkcs12({ privateKey: issued.privateKey, chainDer: [issued.certDer, sealCa(service).certDer], password }).toString('base64');
}

async function register(service: RunningService, id: string, sealType: SealType, p12: string, password = 'transfer'): Promise<Response> {
  return fetch(`${service.url}/v1/seals`, { method: 'POST', headers: admin(service), body: JSON.stringify({ id, orgName: ORG, orgUscc: USCC, sealType, pkcs12: p12, password }) });
}

interface SealTypeProblem {
  type: string;
  detail: string;
  field: string;
  sealType: string;
  certificatePolicies: string[];
  allowedSealTypes: string[];
}

describe('the seal type must be allowed by the certificate policies', () => {
  it('refuses a contract certificate as an official seal, naming the type and the policies; accepts it as a contract seal, which seals', async () => {
    const contract = pkcs12(svc, await sealCertificate(svc, { sealTypes: ['contract'] }));
    const refused = await register(svc, 'contract-as-official', 'official', contract);
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await refused.json()) as SealTypeProblem;
    expect(problem).toMatchObject({ field: 'sealType', sealType: 'official', certificatePolicies: [DEV_SEAL_TYPE_POLICY.contract], allowedSealTypes: ['contract'] });
    expect(problem.type).toMatch(/seal-type-not-allowed$/);
    expect(problem.detail).toContain(DEV_SEAL_TYPE_POLICY.contract);
    expect(problem.detail).toMatch(/official/);
    expect(await svc.service.seals.get('contract-as-official')).toBeUndefined();

    const accepted = await register(svc, 'contract-seal', 'contract', contract);
    expect(accepted.status, await accepted.clone().text()).toBe(201);
    const sealed = await sealOk(svc, await makePdf(1), { sealId: 'contract-seal' });
    const res = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(sealed) });
    const report = (await res.json()) as ValidationReport;
    expect(report.signatures.map((s) => s.indication)).toEqual(['TOTAL_PASSED']);
  });

  it('refuses, under the built-in mapping, a certificate without policies and one asserting only anyPolicy', async () => {
    const bare = await register(svc, 'no-policy', 'official', pkcs12(svc, await sealCertificate(svc, {})));
    expect(bare.status).toBe(422);
    const bareProblem = (await bare.json()) as SealTypeProblem;
    expect(bareProblem).toMatchObject({ sealType: 'official', certificatePolicies: [], allowedSealTypes: [] });
    expect(bareProblem.detail).toMatch(/no certificatePolicies extension/);

    const any = await register(svc, 'any-policy', 'business', pkcs12(svc, await sealCertificate(svc, { policies: [ANY_POLICY] })));
    expect(any.status).toBe(422);
    expect((await any.json()) as SealTypeProblem).toMatchObject({ sealType: 'business', certificatePolicies: [ANY_POLICY], allowedSealTypes: [] });
  });

  it('follows the mapping SEAL_TYPE_POLICIES names: the same kinds of certificate are accepted where it says so', async () => {
    // the built-in mapping refuses these three (above); this one allows them
    const contractAsOfficial = await register(configured, 'contract-as-official', 'official', pkcs12(configured, await sealCertificate(configured, { sealTypes: ['contract'] })));
    expect(contractAsOfficial.status, await contractAsOfficial.clone().text()).toBe(201);
    await sealOk(configured, await makePdf(1), { sealId: 'contract-as-official' });

    const bare = pkcs12(configured, await sealCertificate(configured, {}));
    const bareAsOfficial = await register(configured, 'no-policy-official', 'official', bare);
    expect(bareAsOfficial.status).toBe(422);
    expect((await bareAsOfficial.json()) as SealTypeProblem).toMatchObject({ certificatePolicies: [], allowedSealTypes: ['finance'] });
    expect((await register(configured, 'no-policy-finance', 'finance', bare)).status).toBe(201);

    const any = await register(configured, 'any-policy-business', 'business', pkcs12(configured, await sealCertificate(configured, { policies: [ANY_POLICY] })));
    expect(any.status, await any.clone().text()).toBe(201);
  });
});

describe('one certificate, one registration', () => {
  it('registers a certificate once when several registrations race, each with its own PKCS#12 file and password', async () => {
    const issued = await sealCertificate(svc, { sealTypes: ['contract'] });
    const attempts = await Promise.all(['race-a', 'race-b', 'race-c', 'race-d'].map((id) => register(svc, id, 'contract', pkcs12(svc, issued, `password of ${id}`), `password of ${id}`)));
    const statuses = attempts.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 422)).toHaveLength(3);
    const winner = ['race-a', 'race-b', 'race-c', 'race-d'][statuses.indexOf(201)]!;
    for (const loser of attempts.filter((r) => r.status === 422)) {
      expect(((await loser.json()) as { detail: string }).detail).toMatch(new RegExp(`already registered as the seal "${winner}"|has just been registered as another seal`));
    }
    const leafPem = (await svc.service.seals.get(winner))!.chainPem[0]!;
    const registrations = (await svc.service.seals.list()).filter((s) => s.chainPem[0] === leafPem);
    expect(registrations.map((s) => s.id)).toEqual([winner]);
    const claims = await svc.service.db.all<{ seal_id: string }>('SELECT seal_id FROM seal_certificates WHERE seal_id IN (?, ?, ?, ?)', ['race-a', 'race-b', 'race-c', 'race-d']);
    expect(claims).toEqual([{ seal_id: winner }]);
  });

  it('keeps the claim in the database: a second row for the same certificate is refused by its key', async () => {
    const row = await svc.service.db.get<{ cert_tbs_sha256: string }>('SELECT cert_tbs_sha256 FROM seals WHERE id = ?', ['contract-seal']);
    expect(row?.cert_tbs_sha256).toMatch(/^[0-9a-f]{64}$/);
    const again = await svc.service.db.run('INSERT INTO seal_certificates (cert_tbs_sha256, seal_id) VALUES (?, ?) ON CONFLICT (cert_tbs_sha256) DO NOTHING', [row!.cert_tbs_sha256, 'scjg-official']);
    expect(again.changes).toBe(0);
  });
});

/** A second registration of a seal's certificate as versions before the claim table could leave one (no hash yet). */
async function legacyCopy(service: RunningService, of: string, id: string, status: 'active' | 'revoked' = 'active'): Promise<void> {
  await service.service.db.run(
    `INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at)
     SELECT ?, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, ?, ? FROM seals WHERE id = ?`,
    [id, status, new Date().toISOString(), of],
  );
  await service.service.db.run('INSERT INTO seal_keystores (seal_id, pkcs12) SELECT ?, pkcs12 FROM seal_keystores WHERE seal_id = ?', [id, of]);
  const client = await service.service.clients.findByToken(service.token);
  await service.service.clients.grantSeal(client!.id, id);
}

describe('revoking a seal revokes every registration of its certificate', () => {
  it('revokes the old copy in the same step, records both, and lists the certificate once on the CRL', async () => {
    const issued = await sealCertificate(svc, { sealTypes: ['contract'] });
    expect((await register(svc, 'legacy-a', 'contract', pkcs12(svc, issued))).status).toBe(201);
    await legacyCopy(svc, 'legacy-a', 'legacy-b');
    await sealOk(svc, await makePdf(1), { sealId: 'legacy-b' }); // the copy seals while the certificate is good

    const revoke = await fetch(`${svc.url}/v1/seals/legacy-a/revoke`, { method: 'POST', headers: admin(svc), body: JSON.stringify({ reason: 1 }) });
    expect(revoke.status).toBe(200);
    expect(((await revoke.json()) as { revokedRegistrations: string[] }).revokedRegistrations).toEqual(['legacy-a', 'legacy-b']);
    const copy = await svc.service.seals.get('legacy-b');
    expect(copy?.status).toBe('revoked');
    const times = await svc.service.db.all<{ id: string; revoked_at: string; revocation_reason: number }>("SELECT id, revoked_at, revocation_reason FROM seals WHERE id IN ('legacy-a', 'legacy-b') ORDER BY id");
    expect(new Set(times.map((t) => `${t.revoked_at}/${t.revocation_reason}`)).size).toBe(1);
    expect(times[0]!.revocation_reason).toBe(1);

    const refused = await sealRequest(svc, await makePdf(1), { sealId: 'legacy-b' });
    expect(refused.status).toBe(409);
    const audit = await svc.service.db.all<{ subject: string; details: string }>("SELECT subject, details FROM audit_log WHERE action = 'seal.revoke' AND subject IN ('legacy-a', 'legacy-b') ORDER BY seq");
    expect(audit.map((a) => [a.subject, JSON.parse(a.details) as object])).toEqual([
      ['legacy-a', { reason: 1 }],
      ['legacy-b', { reason: 1, withSeal: 'legacy-a' }],
    ]);

    const crl = Buffer.from(await (await fetch(`${svc.url}/pki/seal-ca.crl`)).arrayBuffer());
    const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', writeTemp('seal-ca.crl', crl), '-noout', '-text'], { encoding: 'utf8' });
    const serial = readCertFields(issued.certDer).serialHex;
    expect(text.match(new RegExp(`Serial Number: ${serial}`, 'gi'))).toHaveLength(1);
  });

  it('revokes at start an old copy of a certificate revoked before under another seal, with that revocation and an audit entry', async () => {
    const issued = await sealCertificate(svc, { sealTypes: ['contract'] });
    expect((await register(svc, 'old-a', 'contract', pkcs12(svc, issued))).status).toBe(201);
    const revoke = await fetch(`${svc.url}/v1/seals/old-a/revoke`, { method: 'POST', headers: admin(svc), body: JSON.stringify({ reason: 4 }) });
    expect(revoke.status).toBe(200);
    await legacyCopy(svc, 'old-a', 'old-b');
    expect((await svc.service.seals.get('old-b'))?.status).toBe('active');

    const restarted = await startService({}, svc.dataDir);
    try {
      expect((await restarted.service.seals.get('old-b'))?.status).toBe('revoked');
      const rows = await restarted.service.db.all<{ revoked_at: string; revocation_reason: number }>("SELECT revoked_at, revocation_reason FROM seals WHERE id IN ('old-a', 'old-b')");
      expect(new Set(rows.map((r) => `${r.revoked_at}/${r.revocation_reason}`))).toEqual(new Set([`${rows[0]!.revoked_at}/4`]));
      const entry = await restarted.service.db.get<{ actor: string }>("SELECT actor FROM audit_log WHERE action = 'seal.revoke' AND subject = 'old-b'");
      expect(entry?.actor).toBe('service');
      expect((await sealRequest(restarted, await makePdf(1), { sealId: 'old-b' })).status).toBe(409);
    } finally {
      await restarted.close();
    }
  });
});
