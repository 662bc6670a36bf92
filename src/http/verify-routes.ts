import { Router } from 'express';
import { z } from 'zod';
import type { SerialisedReport } from '../runtime/worker-protocol.js';
import type { Metrics } from './metrics.js';
import { pdfBody } from './pdf-body.js';
import type { WorkLimits } from '../pdf/limits/work-budget.js';

export const VerifyQuery = z
  .object({
    validationTime: z
      .string()
      .datetime({ offset: true })
      .transform((s) => new Date(s))
      .optional(),
    offline: z.enum(['true', 'false']).optional(),
  })
  .strict();

export interface VerifyRouteDeps {
  maxBodyBytes: number;
  processingTimeMs: number;
  workLimits?: WorkLimits;
  /** Validates with this service's trust anchors, policy and revocation checker (in a PDF worker thread); the report comes serialised. */
  verify: (pdf: Buffer, options: { validationTime?: Date; offline: boolean; password?: string }) => Promise<SerialisedReport>;
  metrics: Metrics;
}

/**
 * `POST /v1/verify`: anyone may ask; the answer is the validation report. An encrypted file's
 * password, when it has one beyond the empty user password, comes in `X-PDF-Password` (a header,
 * so that it stays out of URLs and access logs).
 */
export function verifyRouter(deps: VerifyRouteDeps): Router {
  const router = Router();
  router.post('/v1/verify', ...pdfBody(deps.maxBodyBytes, deps.processingTimeMs, deps.workLimits), async (req, res, next) => {
    try {
      const query = VerifyQuery.parse(req.query);
      const password = req.get('x-pdf-password');
      const report = await deps.verify(req.body as Buffer, {
        validationTime: query.validationTime,
        offline: query.offline === 'true',
        ...(password ? { password } : {}),
      });
      for (const indication of report.indications) deps.metrics.count('eseal_verifications_total', 'Signatures verified, by indication', { indication });
      res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(report.json));
      res.end(report.json);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
