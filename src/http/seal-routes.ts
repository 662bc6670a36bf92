import { Router } from 'express';
import type { AuditLog } from '../audit/log.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PdfLimits } from '../pdf/document.js';
import type { PdfPool } from '../runtime/pdf-pool.js';
import type { SealingService, SealOutcome } from '../sealing/sealing-service.js';
import { LevelUnavailableError, LtvIncompleteError, NotSealableError, NothingToExtendError } from '../signing/errors.js';
import type { ExtendResult, MissingEvidence } from '../signing/extend.js';
import type { EvidenceSource } from '../signing/levels.js';
import type { Timestamper } from '../pki/timestamper.js';
import type { ApiClientStore } from '../store/api-clients.js';
import { requireRole } from './auth.js';
import { pdfBody } from './pdf-body.js';
import type { WorkLimits } from '../pdf/limits/work-budget.js';
import { HttpProblem } from './problem.js';

const text = (max: number) => z.string().trim().min(1).max(max);

export const SealQuery = z
  .object({
    sealId: text(64),
    mode: z.enum(['stamp', 'seam', 'invisible']).default('stamp'),
    page: z.coerce.number().int().min(1).optional(),
    x: z.coerce.number().finite().min(0).optional(),
    y: z.coerce.number().finite().min(0).optional(),
    width: z.coerce.number().finite().positive().optional(),
    unit: z.enum(['mm', 'pt']).default('mm'),
    anchor: text(100).optional(),
    level: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']).default('B-B'),
    reason: text(200).optional(),
    location: text(200).optional(),
    certify: z.enum(['1', '2', '3']).optional(),
    /** `ses`: a GB/T 38540 SES_Signature instead of CMS, for a seal registered with a national e-seal. */
    format: z.enum(['cms', 'ses']).default('cms'),
  })
  .strict()
  .refine((q) => q.mode !== 'stamp' || (q.x === undefined) === (q.y === undefined), { message: 'give both x and y, or neither', path: ['x'] })
  .refine((q) => !(q.anchor && q.x !== undefined), { message: 'give either anchor or x/y, not both', path: ['anchor'] })
  .refine((q) => q.mode === 'stamp' || (q.anchor === undefined && q.x === undefined && q.page === undefined), {
    message: 'page, x and anchor only apply to mode=stamp (seam takes y)',
    path: ['mode'],
  });

export type SealQuery = z.infer<typeof SealQuery>;

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

function notSealableProblem(err: NotSealableError): HttpProblem {
  if (err.reason === 'certified-no-changes') return new HttpProblem(409, 'document-certified-no-changes', 'The document is certified and permits no changes', err.message);
  if (err.reason === 'encrypted') return new HttpProblem(422, 'pdf-encrypted', 'Encrypted PDFs cannot be sealed', err.message);
  return new HttpProblem(422, 'pdf-needs-repair', 'The PDF is damaged', err.message);
}

export interface SealRouteDeps {
  sealing: SealingService;
  clients: ApiClientStore;
  maxBodyBytes: number;
  processingTimeMs: number;
  workLimits?: WorkLimits;
  pdfLimits: PdfLimits;
  logger: Logger;
  /** Enables levels B-T and above. */
  timestamper?: Timestamper;
  /** Enables levels B-LT and B-LTA. */
  evidence?: EvidenceSource;
  audit: AuditLog;
  /** The worker threads that parse and extend the documents. */
  pdfPool: PdfPool;
}

export function sealRouter(deps: SealRouteDeps): Router {
  const router = Router();
  router.post('/v1/seal', requireRole(deps.clients, 'seal'), async (req, res, next) => {
    try {
      const query = SealQuery.parse(req.query);
      await deps.sealing.assertSealUsable(query.sealId, req.client!.sealIds);
      if (query.level !== 'B-B' && !deps.timestamper) {
        throw new HttpProblem(422, 'level-not-available', 'This signature level is not available', `level ${query.level} needs a time-stamping authority (TSA_URL), and none is configured`);
      }
      next();
    } catch (err) {
      next(err);
    }
  });
  // Authority is checked again once the body has arrived (an upload can take long: the client
  // may have been disabled, or the seal revoked, meanwhile), the seal again when the key signs,
  // and once more after signing, before anything is answered.
  router.post('/v1/seal', ...pdfBody(deps.maxBodyBytes, deps.processingTimeMs, deps.workLimits), requireRole(deps.clients, 'seal'), async (req, res, next) => {
    try {
      const query = SealQuery.parse(req.query);
      let sealed: SealOutcome;
      try {
        sealed = await deps.sealing.seal({
          sealId: query.sealId,
          allowedSealIds: req.client!.sealIds,
          actor: req.client!.id,
          pdf: req.body as Buffer,
          placement: { mode: query.mode, page: query.page, x: query.x, y: query.y, width: query.width, unit: query.unit, anchor: query.anchor },
          level: query.level,
          reason: query.reason,
          location: query.location,
          docMdp: query.certify ? (Number(query.certify) as 1 | 2 | 3) : undefined,
          format: query.format,
        });
      } catch (err) {
        if (err instanceof NotSealableError) throw notSealableProblem(err);
        if (err instanceof LevelUnavailableError) throw new HttpProblem(422, 'level-not-available', 'This signature level is not available', err.message);
        throw err;
      }
      const { parts, length } = sealed;
      deps.logger.info({ client: req.client!.id, sealId: sealed.seal.id, field: sealed.fieldName, padesLevel: query.level, bytes: length }, 'sealed a document');
      res.status(200);
      res.setHeader('Content-Type', 'application/pdf');
      res.setHeader('Content-Length', String(length));
      res.setHeader('Content-Disposition', 'attachment; filename="sealed.pdf"');
      res.setHeader('X-Signature-Field', sealed.fieldName);
      for (const part of parts.slice(0, -1)) res.write(part);
      res.end(parts[parts.length - 1]);
    } catch (err) {
      next(err);
    }
  });
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
