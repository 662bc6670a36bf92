import { DecodeBudgetExceeded, ObjectBudgetExceeded } from '../pdf/limits/work-budget.js';
import { MemoryBudgetExceeded, PoolBusyError } from '../runtime/pool-errors.js';
import { PlacementError } from '../signing/errors.js';
import { SealingClientError, SealUnavailableError } from '../sealing/errors.js';
import { LicenseScopeError } from '../licenses/scope.js';
import type { ErrorRequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { ProcessingTimeExceeded } from '../pdf/limits/deadline.js';
import { PdfError, type PdfErrorCode } from '../pdf/errors.js';
import { Pkcs12Error } from '../pki/pkcs12-errors.js';
import { HsmError, type HsmErrorCode } from '../pki/pkcs11/errors.js';
import { SealInputError, SealTypeNotAllowedError } from '../seals/errors.js';
import { DatabaseUnavailableError } from '../store/errors.js';

/** An error meant for the client, written as RFC 9457 problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    /** Stable machine-readable kind; becomes `type: /problems/<slug>`. */
    readonly slug: string,
    readonly title: string,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

/** Writes `problem` as problem+json on any response, Express's or node's own. */
export function sendProblem(res: ServerResponse, problem: HttpProblem, instance?: string): void {
  // A database or a token that is away for now, or every PDF thread busy: clients may try again shortly.
  const transient = problem.slug === 'database-unavailable' || (problem.slug === 'seal-key-unavailable' && problem.extra.code === 'token_missing');
  if (transient) res.setHeader('Retry-After', '5');
  if (problem.slug === 'server-busy') res.setHeader('Retry-After', String(problem.extra.retryAfterSeconds ?? 1));
  const body = JSON.stringify({ type: `/problems/${problem.slug}`, title: problem.title, status: problem.status, detail: problem.message, instance, ...problem.extra });
  res.statusCode = problem.status;
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

const PDF_PROBLEMS: Record<PdfErrorCode, [number, string, string]> = {
  NOT_PDF: [422, 'not-a-pdf', 'The body is not a PDF'],
  TRUNCATED: [422, 'pdf-truncated', 'The PDF is truncated'],
  MALFORMED: [422, 'pdf-malformed', 'The PDF is malformed'],
  ENCRYPTED: [422, 'pdf-encrypted', 'The PDF is encrypted: its password is missing or wrong, or its encryption is not supported'],
  UNSUPPORTED: [422, 'pdf-unsupported', 'The PDF uses a feature that is not supported'],
  LIMIT_EXCEEDED: [413, 'pdf-too-complex', 'The PDF exceeds a processing limit'],
};

const SEAL_UNAVAILABLE: Record<SealUnavailableError['reason'], [number, string]> = {
  'unknown-seal': [404, 'No such seal'],
  'seal-not-permitted': [403, 'This client may not use this seal'],
  'seal-not-active': [409, 'The seal cannot be used'],
  'seal-certificate-not-valid': [409, 'The seal certificate is not valid now'],
  'seal-not-national': [422, 'The seal is not a national e-seal'],
};

const HSM_DETAIL: Record<HsmErrorCode, string> = {
  module_missing: "the hardware security module's library cannot be loaded",
  token_missing: "the token holding the seal's key is not present",
  pin_unavailable: "the token's PIN is not configured",
  pin_incorrect: "the token refused the configured PIN",
  pin_locked: "the token's PIN is locked",
  key_missing: "the seal's key is not on its token",
  key_exists: 'a key with that label or id exists already',
  key_mismatch: "the token key does not match the seal's certificate",
  hsm_failure: 'the hardware security module failed',
};

/** Turns any error into problem+json: known input errors are 4xx, everything else a logged 500. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const problem = toProblem(err);
    if (problem.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    sendProblem(res, problem, req.originalUrl.split('?')[0]);
  };
}

/** Any error as the problem the client is told: known input errors are 4xx, everything else a 500. */
export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof DatabaseUnavailableError) {
    return new HttpProblem(503, 'database-unavailable', 'The database cannot be reached; try again shortly', 'the service could not reach its database');
  }
  if (err instanceof ProcessingTimeExceeded) {
    return new HttpProblem(422, 'processing-time-exceeded', 'The document took longer to process than this service allows', err.message, { limitMs: err.limitMs });
  }
  if (err instanceof PlacementError) return new HttpProblem(422, err.slug, err.title, err.message);
  if (err instanceof SealUnavailableError) {
    const [status, title] = SEAL_UNAVAILABLE[err.reason];
    return new HttpProblem(status, err.reason, title, err.message);
  }
  if (err instanceof SealingClientError) {
    return err.reason === 'client-unavailable'
      ? new HttpProblem(401, 'unauthenticated', 'Authentication required', err.message)
      : new HttpProblem(403, 'forbidden', 'Not allowed', err.message);
  }
  if (err instanceof LicenseScopeError) {
    return new HttpProblem(403, err.reason, err.reason === 'authority-not-bound' ? 'This client does not act for the issuing authority' : 'This client may not use the issuing seal', err.message);
  }
  if (err instanceof PoolBusyError) {
    return new HttpProblem(503, 'server-busy', 'Every document worker is busy; try again shortly', err.message, { retryAfterSeconds: err.retryAfterSeconds });
  }
  if (err instanceof ObjectBudgetExceeded) {
    return new HttpProblem(422, 'object-budget-exceeded', 'The document has more objects than this service allows', err.message, { limitValues: err.limitValues });
  }
  if (err instanceof MemoryBudgetExceeded) {
    return new HttpProblem(422, 'memory-budget-exceeded', 'The document needs more memory than this service allows', err.message, { limitMb: err.limitMb });
  }
  if (err instanceof DecodeBudgetExceeded) {
    return new HttpProblem(422, 'decode-budget-exceeded', 'The document decodes to more data than this service allows', err.message, { limitBytes: err.limitBytes });
  }
  if (err instanceof PdfError) {
    const [status, slug, title] = PDF_PROBLEMS[err.code];
    return new HttpProblem(status, slug, title, err.message);
  }
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    return new HttpProblem(400, 'invalid-request', 'The request is invalid', issues.map((i) => `${i.field}: ${i.message}`).join('; '), { issues });
  }
  if (err instanceof SealTypeNotAllowedError) {
    return new HttpProblem(422, 'seal-type-not-allowed', "The certificate's policies do not allow this seal type", err.message, {
      field: err.field,
      sealType: err.sealType,
      certificatePolicies: err.certificatePolicies ?? [],
      allowedSealTypes: err.allowedSealTypes,
    });
  }
  if (err instanceof SealInputError) {
    return new HttpProblem(422, 'invalid-seal', 'The seal cannot be registered', err.message, { field: err.field });
  }
  if (err instanceof Pkcs12Error) {
    return new HttpProblem(422, 'invalid-pkcs12', 'The PKCS#12 file cannot be used', err.message, { code: err.code });
  }
  if (err instanceof HsmError) {
    // The request was fine; the seal's key is unusable until an operator acts or the token returns.
    // The full message (module, token, files) goes to the log, not to the client.
    return new HttpProblem(503, 'seal-key-unavailable', "The seal's key is not available", HSM_DETAIL[err.code], { code: err.code });
  }
  const bodyError = err as { type?: string; status?: number; limit?: number };
  if (bodyError.type === 'entity.too.large') {
    return new HttpProblem(413, 'body-too-large', 'The request body is too large', `the limit is ${bodyError.limit} bytes`);
  }
  if (bodyError.type === 'entity.parse.failed') return new HttpProblem(400, 'invalid-json', 'The JSON body cannot be parsed');
  if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
    return new HttpProblem(bodyError.status, 'bad-request', 'Bad request', (err as Error).message);
  }
  return new HttpProblem(500, 'internal-error', 'Internal error', 'the request could not be completed; the error has been logged');
}
