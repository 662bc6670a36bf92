import { createHash } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.js';
import { FaceRenderFailed, FaceRendererBusy, LicenseFaceRenderer } from '../licenses/face-image.js';
import { judgeLicenseFile } from '../licenses/file-verification.js';
import { parseLicenseIdentifier } from '../licenses/identifier.js';
import { publicLicenseSummary } from '../licenses/public-facts.js';
import { PUBLIC_PAGE_CSP, renderPresentationPage, renderVerificationErrorPage, renderVerificationPage, type VerificationError } from '../licenses/public-page.js';
import type { ValidationReport } from '../validation/report.js';
import { pdfBody } from './pdf-body.js';
import type { WorkLimits } from '../pdf/limits/work-budget.js';
import { IdempotentReplay, LicenseStateError, LicenseValidationError, type LicenseRecord, type LicenseService } from '../licenses/issuance.js';
import { HOLDER_CODE_TYPES } from '../licenses/holder.js';
import { NumberRangeExhausted } from '../licenses/numbering.js';
import type { LicenseType } from '../licenses/types.js';
import type { ApiClientStore } from '../store/api-clients.js';
import type { ClientScopeStore } from '../store/client-scopes.js';
import { requireRole } from './auth.js';
import { issuerScopeOf } from './license-scope.js';
import { HttpProblem } from './problem.js';

/** `GET /v1/license-types`: the license and notice types and their fields. */
export function licenseTypesRouter(types: Map<string, LicenseType>): Router {
  const router = Router();
  router.get('/v1/license-types', (_req, res) => {
    res.json({
      types: [...types.values()].map((t) => ({
        code: t.code,
        name: t.name,
        typeCode: t.typeCode,
        sealType: t.sealType,
        validity: t.validity,
        holder: t.holder,
        fields: t.fields,
      })),
    });
  });
  return router;
}

export const IssueLicenseBody = z
  .object({
    type: z.string().min(1).max(64),
    /** codeType (GB/T 36903 持证主体代码类型): 001 unified social credit code, 111 citizen identity number. */
    holder: z.object({ name: z.string(), code: z.string(), codeType: z.enum(HOLDER_CODE_TYPES) }).strict(),
    fields: z.record(z.string(), z.unknown()),
  })
  .strict();

export const RevokeLicenseBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

/**
 * A replacement: why (required), and what changes. The holder stays (its name may change), the
 * fields are the new version's complete fields, and the term is kept unless `validity` gives a new
 * one. Unknown members are refused.
 */
export const ReplaceLicenseBody = z
  .object({
    reason: z.string().trim().min(1).max(500),
    holder: z.object({ name: z.string(), code: z.string(), codeType: z.enum(HOLDER_CODE_TYPES) }).strict().optional(),
    fields: z.record(z.string(), z.unknown()).optional(),
    validity: z.object({ from: z.string(), until: z.string() }).strict().optional(),
  })
  .strict();

/** The request's Idempotency-Key (1-200 visible ASCII characters) with a hash of its body, if it has one. */
function idempotencyOf(header: string | undefined, body: unknown): { key: string; requestSha256: string } | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(header)) throw new HttpProblem(400, 'invalid-idempotency-key', 'The Idempotency-Key is invalid', '1 to 200 visible ASCII characters');
  return { key: header, requestSha256: createHash('sha256').update(JSON.stringify(body ?? null)).digest('hex') };
}

/**
 * Issuing, replacing and revoking licences (`POST /v1/licenses`, `/{id}/replace`, `/{id}/revoke`),
 * each only for the issuing authorities the client is bound to and with seals it may use.
 * Reading is in `license-read-routes.ts`.
 */
export function licensesRouter(deps: { licenses: LicenseService; clients: ApiClientStore; scopes: ClientScopeStore; audit: AuditLog }): Router {
  const router = Router();
  router.post('/v1/licenses', requireRole(deps.clients, 'issue'), express.json({ limit: 256 * 1024 }), async (req, res, next) => {
    try {
      const body = IssueLicenseBody.parse(req.body ?? {});
      const idempotency = idempotencyOf(req.get('idempotency-key'), req.body);
      if (idempotency) await deps.licenses.checkIdempotency(req.client!.id, idempotency);
      const record = await deps.licenses.issue(body.type, { holder: body.holder, fields: body.fields }, undefined, undefined, {
        actor: req.client!.id,
        action: 'license.issue',
        scope: await issuerScopeOf(deps.scopes, req.client!),
        ...(idempotency ? { idempotency } : {}),
      });
      res.status(201).location(`/v1/licenses/${encodeURIComponent(record.id)}`).json(record);
    } catch (err) {
      if (err instanceof LicenseValidationError) {
        next(new HttpProblem(422, 'invalid-license-fields', 'Some fields are invalid', err.problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems: err.problems }));
        return;
      }
      if (err instanceof LicenseStateError) return next(new HttpProblem(409, 'issuing-seal-unavailable', 'The license cannot be issued now', err.message));
      if (err instanceof NumberRangeExhausted) return next(new HttpProblem(409, 'license-numbers-exhausted', 'No license number is left for this type', err.message));
      if (err instanceof IdempotentReplay) {
        if (!err.sameRequest) return next(new HttpProblem(422, 'idempotency-key-reused', 'This Idempotency-Key was used for another request', err.message));
        let earlier: Awaited<ReturnType<LicenseService['get']>>;
        try {
          earlier = await deps.licenses.get(err.licenseId);
        } catch (lookupFailure) {
          return next(lookupFailure); // a database gone meanwhile is a 503 like any other
        }
        if (earlier) {
          res.status(201).setHeader('Idempotent-Replayed', 'true');
          res.location(`/v1/licenses/${encodeURIComponent(earlier.id)}`).json(earlier);
          return;
        }
      }
      next(err);
    }
  });
  router.post('/v1/licenses/:id/revoke', requireRole(deps.clients, 'revoke'), express.json({ limit: 16 * 1024 }), async (req, res, next) => {
    try {
      const { reason } = RevokeLicenseBody.parse(req.body ?? {});
      const revoked = await deps.licenses.revoke(String(req.params.id), reason, undefined, await issuerScopeOf(deps.scopes, req.client!));
      await deps.audit.append({ actor: req.client!.id, action: 'license.revoke', subject: revoked.id, details: { reason } });
      res.json(revoked);
    } catch (err) {
      next(err instanceof LicenseStateError ? new HttpProblem(409, 'license-state', 'The license cannot be revoked', err.message) : err);
    }
  });
  router.post('/v1/licenses/:id/replace', requireRole(deps.clients, 'issue'), express.json({ limit: 256 * 1024 }), async (req, res, next) => {
    try {
      const body = ReplaceLicenseBody.parse(req.body ?? {});
      const created = await deps.licenses.replace(String(req.params.id), body, undefined, {
        actor: req.client!.id,
        action: 'license.replace',
        scope: await issuerScopeOf(deps.scopes, req.client!),
        details: { replaces: String(req.params.id), reason: body.reason },
      });
      res.status(201).location(`/v1/licenses/${encodeURIComponent(created.id)}`).json(created);
    } catch (err) {
      if (err instanceof LicenseStateError) return next(new HttpProblem(409, 'license-state', 'The license cannot be replaced', err.message));
      if (err instanceof LicenseValidationError) return next(new HttpProblem(422, 'invalid-license-fields', 'Some fields are invalid', err.problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems: err.problems }));
      next(err);
    }
  });
  return router;
}

/** A check code as the QR URL carries it: the first ten characters of a base64url HMAC. */
const CHECK_CODE = /^[A-Za-z0-9_-]{10}$/;

/** Headers of everything under `/v/`: no scripts, no framing, no sniffing, and the check code in the URL never leaves as a Referer. */
function publicPageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PUBLIC_PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

const ERROR_STATUS: Record<VerificationError, number> = { malformed: 400, unknown: 404, expired: 410 };

function sendErrorPage(res: Response, kind: VerificationError): void {
  res.status(ERROR_STATUS[kind]).type('text/html; charset=utf-8').setHeader('Cache-Control', 'no-store');
  res.send(renderVerificationErrorPage(kind));
}

/**
 * A path under `/v/` of licence `id`, relative to `/v/` (`base` climbs there from a deeper page),
 * so links work behind a proxy that mounts the service under a prefix.
 */
function licenceHref(licenses: LicenseService, id: string, base: string, suffix = ''): string {
  return `${base}${encodeURIComponent(id)}${suffix}?c=${encodeURIComponent(licenses.checkCode(id))}`;
}

/** Answers a face image that cannot be rendered now with 503; hands any other error on (undefined when answered). */
function faceError(res: Response, err: unknown): unknown {
  if (!(err instanceof FaceRendererBusy || err instanceof FaceRenderFailed)) return err;
  res.status(503).setHeader('Retry-After', '5');
  res.type('text/plain; charset=utf-8').send('证照图像暂时无法生成，请稍后再试。');
  return undefined;
}

/**
 * Public: the QR page `GET /v/{id}?c=...`, the image of the licence's face, the holder's
 * time-limited presentation code (`/v/{id}/present`, opened at `/v/presented/{token}`), and
 * `POST /v1/licenses/verify`.
 */
export function licenseVerificationRouter(deps: {
  licenses: LicenseService;
  maxBodyBytes: number;
  processingTimeMs: number;
  workLimits?: WorkLimits;
  verify: (pdf: Buffer) => Promise<ValidationReport>;
  faces?: LicenseFaceRenderer;
}): Router {
  const router = Router();
  const faces = deps.faces ?? new LicenseFaceRenderer();
  router.use('/v', (_req, res, next) => {
    publicPageHeaders(res);
    next();
  });
  /** The licence a page request names, or why there is none. */
  const resolve = async (req: Request): Promise<LicenseRecord | 'malformed' | 'unknown'> => {
    const id = String(req.params.id);
    const code = req.query.c;
    if (!parseLicenseIdentifier(id) || typeof code !== 'string' || !CHECK_CODE.test(code)) return 'malformed';
    if (!deps.licenses.checkCodeMatches(id, code)) return 'unknown';
    return (await deps.licenses.get(id)) ?? 'unknown';
  };
  /** Links on a page: to the face image, and to a licence's page (the version in force). */
  interface PageLinks {
    face: string;
    page: (id: string) => string;
    present?: string;
  }
  const sendLicencePage = async (res: Response, record: LicenseRecord, links: PageLinks, presentedUntil?: Date): Promise<void> => {
    const current = record.status === 'superseded' ? await deps.licenses.currentVersion(record.id) : undefined;
    res.status(200).type('text/html; charset=utf-8').setHeader('Cache-Control', 'no-store');
    res.send(
      renderVerificationPage({
        record,
        type: deps.licenses.typeOf(record.type),
        ...(current && current.id !== record.id ? { current: { record: current, href: links.page(current.id) } } : {}),
        faceHref: links.face,
        timeZone: deps.licenses.timeZone,
        ...(presentedUntil ? { presentedUntil } : {}),
        ...(links.present ? { presentHref: links.present } : {}),
      }),
    );
  };
  const sendFace = async (res: Response, record: LicenseRecord): Promise<void> => {
    const png = await faces.png(record.id, () => deps.licenses.pdf(record.id));
    if (!png) return sendErrorPage(res, 'unknown');
    res.type('image/png').setHeader('Cache-Control', 'private, max-age=3600');
    res.send(png);
  };
  /** The licence a presentation code opens, or why there is none. */
  const presented = async (req: Request): Promise<{ record: LicenseRecord; expiresAt: Date } | VerificationError> => {
    const reading = deps.licenses.readPresentationCode(String(req.params.token));
    if (!reading.ok) return reading.reason;
    const record = await deps.licenses.get(reading.id);
    return record ? { record, expiresAt: reading.expiresAt } : 'unknown';
  };
  router.get('/v/:id', async (req, res, next) => {
    try {
      const record = await resolve(req);
      if (typeof record === 'string') return sendErrorPage(res, record);
      await sendLicencePage(res, record, { face: licenceHref(deps.licenses, record.id, '', '/face.png'), page: (id) => licenceHref(deps.licenses, id, ''), present: licenceHref(deps.licenses, record.id, '', '/present') });
    } catch (err) {
      next(err);
    }
  });
  // The holder's phone: a QR code that opens the licence's page for a few minutes only.
  router.get('/v/:id/present', async (req, res, next) => {
    try {
      const record = await resolve(req);
      if (typeof record === 'string') return sendErrorPage(res, record);
      const code = deps.licenses.presentationCode(record.id);
      const qrSvg = await QRCode.toString(code.url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      res.status(200).type('text/html; charset=utf-8').setHeader('Cache-Control', 'no-store');
      res.send(renderPresentationPage({ record, type: deps.licenses.typeOf(record.type), qrSvg, expiresAt: code.expiresAt, timeZone: deps.licenses.timeZone }));
    } catch (err) {
      next(err);
    }
  });
  router.get('/v/presented/:token', async (req, res, next) => {
    try {
      const found = await presented(req);
      if (typeof found === 'string') return sendErrorPage(res, found);
      // Links from here carry presentation codes too, never the licence's permanent check code,
      // so whoever scanned the holder's phone cannot open the licence after the code expires.
      const token = String(req.params.token);
      await sendLicencePage(res, found.record, { face: `${encodeURIComponent(token)}/face.png`, page: (id) => encodeURIComponent(deps.licenses.presentationCode(id).token) }, found.expiresAt);
    } catch (err) {
      next(err);
    }
  });
  router.get('/v/presented/:token/face.png', async (req, res, next) => {
    try {
      const found = await presented(req);
      if (typeof found === 'string') return sendErrorPage(res, found);
      await sendFace(res, found.record);
    } catch (err) {
      const unhandled = faceError(res, err);
      if (unhandled !== undefined) next(unhandled);
    }
  });
  router.get('/v/:id/face.png', async (req, res, next) => {
    try {
      const record = await resolve(req);
      if (typeof record === 'string') return sendErrorPage(res, record);
      await sendFace(res, record);
    } catch (err) {
      const unhandled = faceError(res, err);
      if (unhandled !== undefined) next(unhandled);
    }
  });
  router.post('/v1/licenses/verify', ...pdfBody(deps.maxBodyBytes, deps.processingTimeMs, deps.workLimits), async (req, res, next) => {
    try {
      const pdf = req.body as Buffer;
      const report = await deps.verify(pdf);
      const judged = await judgeLicenseFile(pdf, report, deps.licenses);
      const current = judged.current && judged.current.id !== judged.record?.id ? judged.current : undefined;
      res.json({
        verdict: judged.verdict,
        detail: judged.detail,
        license: judged.record ? publicLicenseSummary(judged.record) : null,
        currentVersion: current ? { ...publicLicenseSummary(current), verificationUrl: current.verificationUrl } : null,
        signatures: report.signatures.map((s, index) => ({
          fieldName: s.fieldName,
          kind: s.kind,
          revision: s.revision,
          role: judged.issuingSignature === undefined ? 'unmatched' : index === judged.issuingSignature ? 'issuing' : index < judged.issuingSignature ? 'earlier' : 'later',
          indication: s.indication,
          subIndication: s.subIndication,
          seal: s.seal,
          trusted: s.certificatePath.trustAnchorReached,
          changesAfterSigningPermitted: s.changesAfterSigning.permitted,
        })),
      });
    } catch (err) {
      next(err);
    }
  });
  return router;
}

/**
 * For the public pages: an address that cannot be decoded (a broken percent-escape in the id)
 * fails in routing, before any route runs; it gets the Chinese error page, not problem+json.
 * Mounted on `/v` ahead of the problem handler.
 */
export function publicPageAddressErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (err instanceof URIError) {
    publicPageHeaders(res);
    sendErrorPage(res, 'malformed');
  } else next(err);
}
