import express, { Router } from 'express';
import { z } from 'zod';
import type { SealingService } from '../sealing/sealing-service.js';
import type { SesSignedInput } from '../validation/ses-detached.js';
import type { SignatureReport } from '../validation/report.js';
import type { ApiClientStore } from '../store/api-clients.js';
import { requireRole } from './auth.js';
import { HttpProblem } from './problem.js';
import { Asn1Error } from '../pki/asn1.js';

const base64 = (field: string, maxBytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/=\s]+$/, `${field} must be base64`)
    .transform((s) => Buffer.from(s, 'base64'))
    .refine((b) => b.length > 0 && b.length <= maxBytes, `${field} must be 1 to ${maxBytes} bytes`);

const sm3Hex = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'sm3 must be 64 hexadecimal digits (an SM3 hash)')
  .transform((s) => Buffer.from(s, 'hex'));

export const SesSignBody = z
  .object({
    sealId: z.string().min(1).max(64),
    sm3: sm3Hex,
    /** GB/T 38540 propertyInfo: what the signed data is (printable ASCII). */
    propertyInfo: z.string().regex(/^[\x20-\x7e]{0,200}$/, 'propertyInfo: up to 200 printable ASCII characters').default('application/octet-stream'),
    timestamp: z.boolean().default(false),
  })
  .strict();

const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

export interface SesRouteDeps {
  sealing: SealingService;
  clients: ApiClientStore;
  timestamping: boolean;
  /** Largest document accepted for verification, in bytes. */
  maxDocumentBytes: number;
  verify: (signature: Buffer, signed: SesSignedInput) => Promise<SignatureReport>;
}

/**
 * GB/T 38540 seal signatures outside PDF: `POST /v1/ses/sign` signs a given SM3 hash with a
 * national e-seal (for OFD and other formats), `POST /v1/ses/verify` checks an SES_Signature
 * against a document or its SM3 hash and answers a signature report.
 */
export function sesRouter(deps: SesRouteDeps): Router {
  const router = Router();
  router.post('/v1/ses/sign', requireRole(deps.clients, 'seal'), express.json({ limit: 16 * 1024 }), async (req, res, next) => {
    try {
      const body = SesSignBody.parse(req.body);
      if (body.timestamp && !deps.timestamping) throw new HttpProblem(422, 'level-not-available', 'Time stamps are not available', 'a time stamp needs a time-stamping authority (TSA_URL), and none is configured');
      const signature = await deps.sealing.signHash({ sealId: body.sealId, allowedSealIds: req.client!.sealIds, actor: req.client!.id, sm3: body.sm3, propertyInfo: body.propertyInfo, timestamp: body.timestamp });
      res.json({ sealId: body.sealId, format: 'GB/T 38540-2020 SES_Signature', signature: signature.toString('base64') });
    } catch (err) {
      next(err);
    }
  });
  const VerifyBody = z
    .object({
      signature: base64('signature', MAX_SIGNATURE_BYTES),
      document: base64('document', deps.maxDocumentBytes).optional(),
      sm3: sm3Hex.optional(),
    })
    .strict()
    .refine((b) => (b.document === undefined) !== (b.sm3 === undefined), { message: 'give either document or sm3', path: ['document'] });
  const jsonLimit = Math.ceil(((deps.maxDocumentBytes + MAX_SIGNATURE_BYTES) * 4) / 3) + 4096;
  router.post('/v1/ses/verify', express.json({ limit: jsonLimit }), async (req, res, next) => {
    try {
      const body = VerifyBody.parse(req.body);
      res.json(await deps.verify(body.signature, body.document ? { data: body.document } : { sm3: body.sm3! }));
    } catch (err) {
      if (err instanceof Asn1Error) return next(new HttpProblem(422, 'ses-signature-unreadable', 'Not a GB/T 38540 or GM/T 0031 seal signature', err.message));
      next(err);
    }
  });
  return router;
}
