import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { buildApp, type HttpApp } from './app.js';
import type { Config } from './config.js';
import { buildCrl } from './devpki/crl.js';
import { ensureDevPki, type DevPki } from './devpki/index.js';
import type { OcspAnswerer } from './http/ocsp-routes.js';
import type { PublishedPki } from './http/pki-routes.js';
import { SEAL_PURPOSE, type SealType } from './seals/seal-types.js';
import { SealKeys } from './seals/keys.js';
import { SealMaterials } from './seals/materials.js';
import { SealRepository } from './seals/repository.js';
import { StatusChecker } from './revocation/status-checker.js';
import { readCertFields } from './pki/cert-fields.js';
import { pemToDer, pemToDerList } from './pki/pem.js';
import { DevTimeStampAuthority } from './devpki/tsa.js';
import { DevOcspResponder, type CertificateState } from './devpki/ocsp-responder.js';
import { MemoryStatusCache, RedisStatusCache, type StatusCache } from './revocation/cache.js';
import { NearStatusCache } from './revocation/near-cache.js';
import { verifyDetachedSes } from './validation/ses-detached.js';
import { StatusService } from './revocation/status-service.js';
import { PdfPool } from './runtime/pdf-pool.js';
import { INLINE_WORK_LIMITS, InlineSealing } from './runtime/inline-sealing.js';
import { SealingService } from './sealing/sealing-service.js';
import { StatusAnswers } from './revocation/status-answers.js';
import { loadLicenseTypes } from './licenses/types.js';
import { LicenseService } from './licenses/issuance.js';
import { AuditLog } from './audit/log.js';
import { Metrics } from './http/metrics.js';
import { HttpTimestamper } from './pki/timestamper.js';
import type { ValidationContext } from './validation/engine.js';
import { defaultValidationPolicy, loadValidationPolicy } from './validation/policy.js';
import type { EvidenceSource } from './signing/levels.js';
import { ApiClientStore, ROLES } from './store/api-clients.js';
import { ClientScopeStore } from './store/client-scopes.js';
import type { Db } from './store/db.js';
import { openDatabase } from './store/open.js';
import { sharedSecret } from './store/shared-secrets.js';

/** The sample departments of the embedded default: one with RSA keys, one with ECDSA P-256, one with an SM2 key. */
export const SAMPLE_SEALS: Array<{ id: string; orgName: string; uscc: string; sealType: SealType; keyKind: 'rsa' | 'ec' | 'sm2' }> = [
  { id: 'scjg-official', orgName: '某某市市场监督管理局', uscc: '11370500MB0100001H', sealType: 'official', keyKind: 'rsa' },
  { id: 'scjg-approval', orgName: '某某市市场监督管理局', uscc: '11370500MB0100001H', sealType: 'approval', keyKind: 'rsa' },
  { id: 'xzsp-official', orgName: '某某市行政审批服务局', uscc: '11370500MB0100002L', sealType: 'official', keyKind: 'ec' },
  { id: 'xzsp-approval', orgName: '某某市行政审批服务局', uscc: '11370500MB0100002L', sealType: 'approval', keyKind: 'ec' },
  { id: 'zrzy-official', orgName: '某某市自然资源和规划局', uscc: '11370500MB0100003P', sealType: 'official', keyKind: 'sm2' },
];

export interface Service {
  app: HttpApp;
  db: Db;
  seals: SealRepository;
  /** Signing material of the seals, loaded once per process. */
  sealMaterials: SealMaterials;
  clients: ApiClientStore;
  devPki?: DevPki;
  /** What signature validation trusts and asks, as POST /v1/verify uses it. */
  validation: Omit<ValidationContext, 'validationTime' | 'pdfLimits'>;
  licenses: LicenseService;
  audit: AuditLog;
  /** Cached certificate status for the platform. */
  status: StatusService;
  /** The status API's answers: parsed certificates and their issuers, once each. */
  statusAnswers: StatusAnswers;
  /** Where B-LT evidence comes from (CRLs and OCSP responses). */
  evidence: EvidenceSource;
  /** The worker threads that parse and validate PDFs. */
  pdfPool: PdfPool;
  /** Set when this start created the development API client: the token, shown once. */
  newDevToken?: string;
  close(): Promise<void>;
}

function secretFile(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return value;
}

/**
 * The key of the licenses' check codes: LICENSE_SECRET, else the file of a data dir that has one
 * from earlier versions (so its QR codes stay valid), else a secret kept in the database, which
 * every instance sharing it then uses.
 */
async function licenseSecret(config: Config, db: Db): Promise<string> {
  if (config.licenseSecret) return config.licenseSecret;
  const legacyFile = path.join(config.dataDir, 'license-secret');
  if (existsSync(legacyFile)) return readFileSync(legacyFile, 'utf8').trim();
  return sharedSecret(db, 'license-check-code');
}

function publishDevPki(pki: DevPki, seals: SealRepository): PublishedPki {
  const crlFor = (issuer: DevPki['root']) => async () => {
    const now = new Date();
    const revoked = (await seals.revokedCertificates())
      .map((r) => ({ fields: readCertFields(r.certDer), ...r }))
      .filter((r) => r.fields.issuerDer.equals(readCertFields(issuer.certDer).subjectDer))
      .map((r) => ({ serialHex: r.fields.serialHex, revokedAt: r.revokedAt, reason: r.reason || undefined }));
    return buildCrl({
      issuer,
      revoked,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + 24 * 3600 * 1000),
      crlNumber: BigInt(Math.floor(now.getTime() / 1000)),
    });
  };
  return {
    rootCertDer: pki.root.certDer,
    sealCaCertDer: pki.sealCa.certDer,
    sm2RootCertDer: pki.sm2.root.certDer,
    sm2SealCaCertDer: pki.sm2.sealCa.certDer,
    rootCrl: crlFor(pki.root),
    sealCaCrl: crlFor(pki.sealCa),
    sm2RootCrl: crlFor(pki.sm2.root),
    sm2SealCaCrl: crlFor(pki.sm2.sealCa),
  };
}

/**
 * The dev CAs' OCSP responders, one per hierarchy (an SM2 responder signs for the SM2 CAs):
 * good for certificates they issued and know, revoked per the registry.
 */
function devOcspResponder(pki: DevPki, seals: SealRepository): OcspAnswerer & { answersFor(request: Buffer): boolean } {
  const own = [pki.sealCa, pki.ocsp, pki.tsa, pki.sm2.sealCa, pki.sm2.ocsp, pki.sm2.tsa].map((i) => ({ der: i.certDer, fields: readCertFields(i.certDer) }));
  const stateOf = async (issuerDer: Buffer, serialHex: string): Promise<CertificateState> => {
    const issuerSubject = readCertFields(issuerDer).subjectDer;
    const revoked = (await seals.revokedCertificates()).find((r) => {
      const f = readCertFields(r.certDer);
      return f.serialHex === serialHex && f.issuerDer.equals(issuerSubject);
    });
    if (revoked) return { status: 'revoked', revokedAt: revoked.revokedAt, reason: revoked.reason || undefined };
    const known = [...own, ...(await seals.list()).map((s) => ({ der: Buffer.alloc(0), fields: readCertFields(pemToDer(s.chainPem[0]!)) }))];
    return known.some((k) => k.fields.serialHex === serialHex && k.fields.issuerDer.equals(issuerSubject)) ? { status: 'good' } : { status: 'unknown' };
  };
  const rsa = new DevOcspResponder(pki.ocsp, [pki.sealCa.certDer, pki.root.certDer], stateOf);
  const sm2 = new DevOcspResponder(pki.sm2.ocsp, [pki.sm2.sealCa.certDer, pki.sm2.root.certDer], stateOf);
  return {
    answersFor: (request) => rsa.answersFor(request) || sm2.answersFor(request),
    respond: (request) => (sm2.answersFor(request) ? sm2 : rsa).respond(request),
  };
}

async function installDevSeals(pki: DevPki, seals: SealRepository): Promise<void> {
  for (const sample of SAMPLE_SEALS) {
    if (await seals.get(sample.id)) continue;
    const issued = pki.seals.find((s) => s.id === sample.id);
    if (!issued) throw new Error(`the development PKI has no certificate for ${sample.id}`);
    await seals.importPkcs12({
      id: sample.id,
      orgName: sample.orgName,
      orgUscc: sample.uscc,
      sealType: sample.sealType,
      pkcs12: readFileSync(issued.p12Path),
      password: pki.keystorePassword,
      ...(issued.sesSeal ? { sesSeal: issued.sesSeal } : {}),
    });
  }
}

/** The purpose the development client reads licences for, covering every type. */
const DEV_PURPOSE = 'development';

/**
 * The development client: every role and sample seal, bound to the sample departments, and the
 * purpose `development` for every licence type. A client from before scoping existed (no
 * authority, no purpose) gets the same scope, so an old data dir's token keeps working; a scope
 * an administrator changed is left alone.
 */
async function ensureDevClient(dataDir: string, clients: ApiClientStore, scopes: ClientScopeStore, licenseTypes: Iterable<string>): Promise<string | undefined> {
  const tokenFile = path.join(dataDir, 'dev-api-token');
  let newToken: string | undefined;
  let client = existsSync(tokenFile) ? await clients.findByToken(readFileSync(tokenFile, 'utf8').trim()) : undefined;
  if (!client) {
    const created = await clients.create('development', [...ROLES], SAMPLE_SEALS.map((s) => s.id));
    writeFileSync(tokenFile, `${created.token}\n`, { mode: 0o600 });
    client = created.client;
    newToken = created.token;
  }
  if ((await scopes.authorities(client.id)).length === 0 && (await scopes.purposes(client.id)).length === 0) {
    await scopes.bind(client.id, [...new Set(SAMPLE_SEALS.map((s) => s.uscc))]);
    await scopes.setPurpose(client.id, DEV_PURPOSE, [...licenseTypes]);
  }
  return newToken;
}

/** What tests may replace: the licences' clock. */
export interface ServiceOptions {
  clock?: () => Date;
}

/** Opens storage, keys and (in the embedded default) the development PKI, and builds the app. */
export async function openService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = await openDatabase(config.database);
  try {
    const keystorePassword = config.keystorePassword ?? secretFile(path.join(config.dataDir, 'keystore-password'), () => randomBytes(24).toString('base64url'));
    const sealKeys = new SealKeys(db, config.dataDir, keystorePassword);
    const sealMaterials = new SealMaterials(sealKeys);
    // Known once the development PKI is loaded; read when a national e-seal is registered.
    let trustAnchors: Buffer[] = [];
    const audit = new AuditLog(db);
    const seals = new SealRepository({ db, audit, keys: sealKeys, sealTypePolicies: config.sealTypePolicies, onRevoked: (ids) => sealMaterials.forget(ids), trustAnchors: () => trustAnchors });
    const clients = new ApiClientStore(db, audit);
    // Registrations older versions allowed of a certificate revoked under another seal stop now (and are recorded as revoked).
    await seals.reconcileCertificates();
    const licenseTypes = loadLicenseTypes(config.templatesDir);
    let devPki: DevPki | undefined;
    let newDevToken: string | undefined;
    const configuredAnchors = config.trustAnchorsFile ? pemToDerList(readFileSync(config.trustAnchorsFile, 'utf8')) : [];
    trustAnchors = configuredAnchors;
    if (config.devPki) {
      devPki = await ensureDevPki({
        dir: path.join(config.dataDir, 'pki'),
        baseUrl: config.baseUrl,
        seals: SAMPLE_SEALS.map((s) => ({ id: s.id, orgName: s.orgName, uscc: s.uscc, sealName: SEAL_PURPOSE[s.sealType] ?? '', sealType: s.sealType, keyKind: s.keyKind })),
      });
      trustAnchors = [...configuredAnchors, devPki.root.certDer, devPki.sm2.root.certDer];
      await installDevSeals(devPki, seals);
      newDevToken = await ensureDevClient(config.dataDir, clients, new ClientScopeStore(db), licenseTypes.keys());
    }
    const published = devPki ? publishDevPki(devPki, seals) : undefined;
    const responder = devPki ? devOcspResponder(devPki, seals) : undefined;
    const revocation = new StatusChecker({
      timeoutMs: config.revocationTimeoutMs,
      localOcsp: (url, request) => (responder && devPki && url === `${devPki.issuedBaseUrl}/ocsp` ? responder.respond(request) : undefined),
      // The service's own CA answers from memory rather than over HTTP to itself.
      local: (url) => {
        if (!published || !devPki) return undefined;
        if (url === `${devPki.issuedBaseUrl}/pki/seal-ca.crl`) return published.sealCaCrl();
        if (url === `${devPki.issuedBaseUrl}/pki/root.crl`) return published.rootCrl();
        if (url === `${devPki.issuedBaseUrl}/pki/sm2-seal-ca.crl`) return published.sm2SealCaCrl();
        if (url === `${devPki.issuedBaseUrl}/pki/sm2-root.crl`) return published.sm2RootCrl();
        return undefined;
      },
    });
    const cache: StatusCache = config.redis ? new NearStatusCache(new RedisStatusCache(config.redis)) : new MemoryStatusCache();
    const status = new StatusService(revocation, cache);
    const validation: Service['validation'] = {
      trustAnchors,
      intermediates: devPki ? [devPki.sealCa.certDer, devPki.sm2.sealCa.certDer] : [],
      revocation: status,
      lookupSeal: (certDer: Buffer) => seals.findByCertificate(certDer),
      policy: config.validationPolicyFile ? loadValidationPolicy(config.validationPolicyFile) : defaultValidationPolicy(),
    };
    const tsa = devPki
      ? config.devTsaKey === 'sm2'
        ? new DevTimeStampAuthority(devPki.sm2.tsa, [devPki.sm2.sealCa.certDer, devPki.sm2.root.certDer])
        : new DevTimeStampAuthority(devPki.tsa, [devPki.sealCa.certDer, devPki.root.certDer])
      : undefined;
    const timestamper = config.tsa ? new HttpTimestamper(config.tsa.url, { username: config.tsa.username, password: config.tsa.password }) : tsa;
    const evidence: EvidenceSource = { crlsFor: (chain: Buffer[]) => revocation.crlsFor(chain), ocspsFor: (chain: Buffer[]) => revocation.ocspsFor(chain), trustAnchors, intermediates: validation.intermediates ?? [] };
    const onRevoked = async (certDer: Buffer): Promise<void> => {
      const issuer = StatusService.issuerOf(certDer, [...(validation.intermediates ?? []), ...trustAnchors]);
      if (issuer) await status.invalidate(certDer, issuer);
    };
    const metrics = new Metrics();
    status.onLookup = (hit) => metrics.count('eseal_status_cache_lookups_total', 'Certificate status lookups, by cache result', { result: hit ? 'hit' : 'miss' });
    const pdfPool = new PdfPool({
      threads: config.pdfThreads,
      queueLimit: config.pdfQueue,
      heapMb: config.pdfThreadHeapMb,
      processingTimeMs: config.processingTimeMs,
      workLimits: config.workLimits,
      setup: { trustAnchors, intermediates: validation.intermediates ?? [], policy: validation.policy ?? defaultValidationPolicy() },
      host: {
        revocation: (chain, at, options) => status.check(chain, at, options),
        lookupSeal: (certDer) => seals.findByCertificate(certDer),
        ...(timestamper ? { timestamp: (digest: Buffer, algorithm: 'sha256' | 'sha384' | 'sha512') => timestamper.timestamp(digest, algorithm) } : {}),
        crlsFor: (chain) => evidence.crlsFor(chain),
        ocspsFor: (chain) => evidence.ocspsFor(chain),
      },
      logger,
    });
    const sealJobs = new InlineSealing(pdfPool, {
      maxBytes: config.sealInlineMaxBytes,
      timeMs: config.sealInlineMs,
      workLimits: INLINE_WORK_LIMITS,
      validation: { trustAnchors, intermediates: validation.intermediates ?? [], policy: validation.policy ?? defaultValidationPolicy() },
      onJob: (place) => metrics.count('eseal_seal_jobs_total', 'Sealing jobs by where they ran: on the HTTP thread (small B-B documents), in a PDF thread, or in a PDF thread after running out of the small limits of the HTTP thread', { ran: place }),
    });
    const sealing = new SealingService({ seals, materials: sealMaterials, jobs: sealJobs, pdfLimits: config.pdfLimits, audit, standingFreshMs: config.sealStandingFreshMs, timestamping: timestamper !== undefined, evidence: true, ...(timestamper ? { timestamper } : {}) });
    const licenses = new LicenseService({
      db,
      seals,
      sealing,
      types: licenseTypes,
      baseUrl: config.baseUrl,
      secret: await licenseSecret(config, db),
      timestamper,
      audit,
      timeZone: config.timeZone,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const knownIssuers = (): Buffer[] => [...(validation.intermediates ?? []), ...trustAnchors];
    const statusAnswers = new StatusAnswers(status, knownIssuers);
    const app = buildApp({ config, logger, db, seals, sealMaterials, sealing, clients, pki: published, pdfPool, tsa, timestamper, evidence, ocsp: responder, status, statusAnswers, statusCache: cache, onRevoked, licenseTypes, licenses, audit, metrics, verifySes: (signature, signed) => verifyDetachedSes(signature, signed, validation) });
    return {
      app,
      db,
      seals,
      sealMaterials,
      clients,
      devPki,
      validation,
      evidence,
      status,
      statusAnswers,
      licenses,
      audit,
      newDevToken,
      pdfPool,
      close: async () => {
        await pdfPool.close();
        await cache.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
