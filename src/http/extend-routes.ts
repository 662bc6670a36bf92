import { Router } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PdfLimits } from '../pdf/document.js';
import type { PdfPool } from '../runtime/pdf-pool.js';
import { LtvIncompleteError, NothingToExtendError } from '../signing/errors.js';
import type { ExtendResult, MissingEvidence } from '../signing/extend.js';
import type { EvidenceSource } from '../signing/levels.js';
import type { Timestamper } from '../pki/timestamper.js';
import type { ApiClientStore } from '../store/api-clients.js';
import { requireRole } from './auth.js';
import { pdfBody } from './pdf-body.js';
import type { WorkLimits } from '../pdf/limits/work-budget.js';
import { HttpProblem } from './problem.js';

export const ExtendQuery = z
  .object({
    level: z.enum(['B-LT', 'B-LTA']),
    /** Answer JSON: the levels, what is missing, and the PDF in base64. */
    report: z.enum(['true', 'false']).default('false'),
    /** Refuse (422 ltv-incomplete) rather than return a file whose revocation data is incomplete. */
    strict: z.enum(['true', 'false']).default('false'),
  })
  .strict();

const MAX_MISSING_IN_HEADER = 20;

/**
 * `X-LTV-Missing-Certificates`: the certificates without revocation data, comma-separated, each
 * `serial=<hex>;subject=<DN>;issuer=<DN>` with the names percent-encoded, so the value stays
 * ASCII and the separators unambiguous. At most 20 (the count is in `X-LTV-Missing`).
 */
function missingHeader(missing: MissingEvidence[]): string {
  return missing
    .slice(0, MAX_MISSING_IN_HEADER)
    .map((m) => `serial=${m.serialNumber.toUpperCase()};subject=${encodeURIComponent(m.subject)};issuer=${encodeURIComponent(m.issuer)}`)
    .join(',');
}

export interface ExtendRouteDeps {
  clients: ApiClientStore;
  maxBodyBytes: number;
  processingTimeMs: number;
  workLimits?: WorkLimits;
  pdfLimits: PdfLimits;
  logger: Logger;
  /** With `evidence`, enables extending. */
  timestamper?: Timestamper;
  evidence?: EvidenceSource;
  audit: AuditLog;
  /** The worker threads that parse and extend the documents. */
  pdfPool: PdfPool;
}

/** `POST /v1/extend`: a signed PDF brought up to B-LT or B-LTA. */
export function extendRouter(deps: ExtendRouteDeps): Router {
  const router = Router();
  router.post('/v1/extend', requireRole(deps.clients, 'seal'), ...pdfBody(deps.maxBodyBytes, deps.processingTimeMs, deps.workLimits), async (req, res, next) => {
    try {
      const query = ExtendQuery.parse(req.query);
      if (!deps.timestamper || !deps.evidence) {
        throw new HttpProblem(422, 'level-not-available', 'This signature level is not available', 'extending needs a time-stamping authority and revocation data, and none is configured');
      }
      let result: ExtendResult & { documentSha256: string };
      try {
        result = await deps.pdfPool.extend({ kind: 'extend', bytes: req.body as Buffer, level: query.level, strict: query.strict === 'true', pdfLimits: deps.pdfLimits });
      } catch (err) {
        if (err instanceof NothingToExtendError) throw new HttpProblem(422, 'not-signed', 'The document has no signature to extend', err.message);
        if (err instanceof LtvIncompleteError) {
          throw new HttpProblem(422, 'ltv-incomplete', 'Revocation data is missing for some certificates', err.message, { requested: query.level, missing: err.missing });
        }
        throw err;
      }
      const { pdf, reached, missing } = result;
      const { documentSha256 } = result;
      deps.logger[missing.length ? 'warn' : 'info']({ client: req.client!.id, padesLevel: query.level, reached, missing: missing.length, bytes: pdf.length }, 'extended a document');
      await deps.audit.append({ actor: req.client!.id, action: 'extend', subject: query.level, documentSha256, details: { reached, missing: missing.length } });
      res.status(200).setHeader('X-PAdES-Level', reached);
      res.setHeader('X-LTV-Missing', String(missing.length));
      if (missing.length) res.setHeader('X-LTV-Missing-Certificates', missingHeader(missing));
      if (query.report === 'true') {
        res.json({ requested: query.level, reached, complete: missing.length === 0, missing, unreadableSignatures: result.unreadable, pdf: pdf.toString('base64') });
        return;
      }
      res.type('application/pdf').setHeader('Content-Disposition', 'attachment; filename="extended.pdf"');
      res.end(pdf);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
