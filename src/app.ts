import { createServer, type RequestListener, type Server } from 'node:http';
import express from 'express';
import proxyaddr from 'proxy-addr';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { healthRouter } from './http/health-routes.js';
import { pkiRouter, type PublishedPki } from './http/pki-routes.js';
import { HttpProblem, problemHandler } from './http/problem.js';
import { extendRouter } from './http/extend-routes.js';
import { sealLane } from './http/seal-lane.js';
import { SealCallers } from './sealing/seal-callers.js';
import { sealsRouter } from './http/seals-routes.js';
import { verifyRouter } from './http/verify-routes.js';
import { sesRouter } from './http/ses-routes.js';
import type { SesSignedInput } from './validation/ses-detached.js';
import type { SignatureReport } from './validation/report.js';
import type { PdfPool } from './runtime/pdf-pool.js';
import type { SealingService } from './sealing/sealing-service.js';
import type { DevTimeStampAuthority } from './devpki/tsa.js';
import type { Timestamper } from './pki/timestamper.js';
import type { EvidenceSource } from './signing/levels.js';
import { tsaRouter } from './http/tsa-routes.js';
import { ocspRouter, type OcspAnswerer } from './http/ocsp-routes.js';
import { statusRoute } from './http/status-routes.js';
import { withFastLane } from './http/fast-lane.js';
import { requestRecorder } from './http/request-log.js';
import { licensesRouter, licenseTypesRouter, licenseVerificationRouter, publicPageAddressErrors } from './http/license-routes.js';
import { licenseReadRouter } from './http/license-read-routes.js';
import { holderRouter } from './http/holder-routes.js';
import { LicenseAccessLog } from './licenses/access-log.js';
import { ClientScopeStore } from './store/client-scopes.js';
import type { LicenseService } from './licenses/issuance.js';
import type { AuditLog } from './audit/log.js';
import type { Metrics } from './http/metrics.js';
import { publicRateLimit } from './http/rate-limit.js';
import { StatusCallers, statusAccess } from './http/status-access.js';
import { openApiRouter } from './http/openapi.js';
import type { LicenseType } from './licenses/types.js';
import type { StatusCache } from './revocation/cache.js';
import type { StatusAnswers } from './revocation/status-answers.js';
import type { StatusService } from './revocation/status-service.js';
import type { SealMaterials } from './seals/materials.js';
import type { SealRepository } from './seals/repository.js';
import type { ApiClientStore } from './store/api-clients.js';
import type { Db } from './store/db.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Db;
  seals: SealRepository;
  sealMaterials: SealMaterials;
  clients: ApiClientStore;
  /** The development PKI's published certificates and CRLs, when it runs. */
  pki?: PublishedPki;
  timestamper?: Timestamper;
  evidence?: EvidenceSource;
  /** The development TSA served at POST /tsa, in the embedded default. */
  tsa?: DevTimeStampAuthority;
  /** The development OCSP responder, answering at /ocsp for its own CA in the embedded default. */
  ocsp?: OcspAnswerer & { answersFor(request: Buffer): boolean };
  status: StatusService;
  /** The answers of POST /v1/certificates/status (parsed certificates, issuers, cached JSON). */
  statusAnswers: StatusAnswers;
  statusCache: StatusCache;
  /** Called after this service revokes a seal certificate. */
  onRevoked: (certDer: Buffer) => Promise<void>;
  licenseTypes: Map<string, LicenseType>;
  licenses: LicenseService;
  audit: AuditLog;
  metrics: Metrics;
  /** The worker threads that parse and validate PDFs off the HTTP thread. */
  pdfPool: PdfPool;
  sealing: SealingService;
  /** Verifies a detached GB/T 38540 seal signature with the service's trust anchors, policy and revocation checker. */
  verifySes: (signature: Buffer, signed: SesSignedInput) => Promise<SignatureReport>;
}

/** The service's HTTP handler: the fast lane, then Express; `listen` as Express's. */
export interface HttpApp extends RequestListener {
  listen(port: number, host?: string): Server;
}

/** Builds the HTTP handler from its parts; nothing global, everything injected. */
export function buildApp(deps: AppDeps): HttpApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Behind a load balancer the client address comes from X-Forwarded-For, but only from the proxies TRUST_PROXY names.
  app.set('trust proxy', deps.config.trustProxy);
  const metrics = deps.metrics;
  const record = requestRecorder(deps.logger, metrics);
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      record({ method: req.method, path: req.path, route, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
    next();
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });
  const limited = publicRateLimit(deps.statusCache, deps.config.publicRateLimit);
  // The holder's access log is public too: its proof (holder code and check code) is not a key to try out.
  for (const path of ['/v1/verify', '/v1/ses/verify', '/v1/licenses/verify', '/v/:id', '/v1/holders/access-log']) app.use(path, limited);
  const statusAccessOptions = { callers: new StatusCallers(deps.clients), counter: deps.statusCache, publicPerMinute: deps.config.publicRateLimit, clientPerMinute: deps.config.statusClientRateLimit };
  // '/ocsp' covers GET /ocsp/{request} too (app.use matches by prefix): each request counts once.
  app.use('/ocsp', statusAccess(statusAccessOptions));
  app.use(openApiRouter(deps.config.baseUrl));
  app.use(healthRouter({ pdfPool: deps.pdfPool, db: deps.db, seals: deps.seals, materials: deps.sealMaterials, startedAt: new Date(), statusCache: deps.statusCache, clients: deps.clients, logger: deps.logger }));
  if (deps.pki) app.use(pkiRouter(deps.pki));
  if (deps.tsa) app.use(tsaRouter(deps.tsa));
  app.use(ocspRouter({ responder: deps.ocsp, cached: (request) => deps.status.cachedOcspResponse(request) }));
  app.use(extendRouter({ pdfPool: deps.pdfPool, clients: deps.clients, maxBodyBytes: deps.config.maxBodyBytes, processingTimeMs: deps.config.processingTimeMs, workLimits: deps.config.workLimits, pdfLimits: deps.config.pdfLimits, logger: deps.logger, timestamper: deps.timestamper, evidence: deps.evidence, audit: deps.audit }));
  app.use(licenseTypesRouter(deps.licenseTypes));
  const scopes = new ClientScopeStore(deps.db);
  const accessLog = new LicenseAccessLog(deps.db, deps.audit);
  app.use(licensesRouter({ licenses: deps.licenses, clients: deps.clients, scopes, audit: deps.audit }));
  app.use(licenseReadRouter({ licenses: deps.licenses, clients: deps.clients, scopes, accessLog }));
  app.use(holderRouter({ licenses: deps.licenses, clients: deps.clients, scopes, accessLog, audit: deps.audit }));
  app.use(licenseVerificationRouter({ licenses: deps.licenses, maxBodyBytes: deps.config.maxBodyBytes, processingTimeMs: deps.config.processingTimeMs, workLimits: deps.config.workLimits, verify: (pdf) => deps.pdfPool.verify(pdf, { pdfLimits: deps.config.pdfLimits }) }));
  app.use(sesRouter({ sealing: deps.sealing, clients: deps.clients, timestamping: deps.timestamper !== undefined, maxDocumentBytes: deps.config.maxBodyBytes, verify: deps.verifySes }));
  app.use(sealsRouter({ seals: deps.seals, clients: deps.clients, audit: deps.audit, onRevoked: deps.onRevoked }));
  app.use(verifyRouter({ maxBodyBytes: deps.config.maxBodyBytes, processingTimeMs: deps.config.processingTimeMs, workLimits: deps.config.workLimits, verify: (pdf, options) => deps.pdfPool.verifyJson(pdf, { ...options, pdfLimits: deps.config.pdfLimits }), metrics }));
  app.use((req, _res, next) => next(new HttpProblem(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`)));
  app.use('/v', publicPageAddressErrors);
  app.use(problemHandler(deps.logger));

  const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  const lanes = [
    statusRoute({ answers: deps.statusAnswers, access: statusAccessOptions, clientAddress: (req) => proxyaddr(req, trust) }),
    sealLane({ sealing: deps.sealing, callers: new SealCallers(deps.db, Math.floor(deps.config.sealStandingFreshMs / 2)), clients: deps.clients, maxBodyBytes: deps.config.maxBodyBytes, timestamping: deps.timestamper !== undefined, logger: deps.logger, metrics }),
  ];
  const handler = withFastLane(app, lanes, { logger: deps.logger, record });
  return Object.assign(handler, { listen: (port: number, host?: string): Server => createServer(handler).listen(port, host) });
}
