import { createHash } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.js';
import { maskName, renderVerificationPage } from '../licenses/public-page.js';
import type { ValidationReport } from '../validation/report.js';
import { pdfBody } from './pdf-body.js';
import type { WorkLimits } from '../pdf/limits/work-budget.js';
import { IdempotentReplay, LicenseStateError, LicenseValidationError, type LicenseService } from '../licenses/issuance.js';
import { HOLDER_CODE_TYPES } from '../licenses/holder.js';
import { NumberRangeExhausted } from '../licenses/numbering.js';
import type { LicenseType } from '../licenses/types.js';
import type { ApiClientStore } from '../store/api-clients.js';
import { requireRole } from './auth.js';
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

/** Issuing and reading licenses (`POST /v1/licenses`, `GET /v1/licenses/{id}`, `/pdf`). */
/** The request's Idempotency-Key (1-200 visible ASCII characters) with a hash of its body, if it has one. */
function idempotencyOf(header: string | undefined, body: unknown): { key: string; requestSha256: string } | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(header)) throw new HttpProblem(400, 'invalid-idempotency-key', 'The Idempotency-Key is invalid', '1 to 200 visible ASCII characters');
  return { key: header, requestSha256: createHash('sha256').update(JSON.stringify(body ?? null)).digest('hex') };
}

export function licensesRouter(deps: { licenses: LicenseService; clients: ApiClientStore; audit: AuditLog }): Router {
  const router = Router();
  router.post('/v1/licenses', requireRole(deps.clients, 'issue'), express.json({ limit: 256 * 1024 }), async (req, res, next) => {
    try {
      const body = IssueLicenseBody.parse(req.body ?? {});
      const idempotency = idempotencyOf(req.get('idempotency-key'), req.body);
      if (idempotency) await deps.licenses.checkIdempotency(req.client!.id, idempotency);
      const record = await deps.licenses.issue(body.type, { holder: body.holder, fields: body.fields }, undefined, undefined, {
        actor: req.client!.id,
        action: 'license.issue',
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
  const find = async (id: string) => {
    const record = await deps.licenses.get(id);
    if (!record) throw new HttpProblem(404, 'unknown-license', 'No such license', `there is no license ${id}`);
    return record;
  };
  router.get('/v1/licenses', requireRole(deps.clients, 'lookup'), async (req, res, next) => {
    try {
      const holderCode = typeof req.query.holderCode === 'string' ? req.query.holderCode.trim() : '';
      const purpose = typeof req.query.purpose === 'string' ? req.query.purpose.trim() : '';
      if (!holderCode || holderCode.length > 40) throw new HttpProblem(400, 'invalid-request', 'Give the holder code', '?holderCode=...');
      if (!purpose || purpose.length > 200) throw new HttpProblem(400, 'purpose-required', 'State the purpose of the lookup (用证事由)', '?purpose=... (1 to 200 characters); it is recorded');
      const found = await deps.licenses.lookupByHolder(req.client!.id, holderCode, purpose);
      // The holder code is kept in the audit log only masked; the lookup table holds the full one.
      await deps.audit.append({ actor: req.client!.id, action: 'license.lookup', subject: `${holderCode.slice(0, 4)}***${holderCode.slice(-2)}`, details: { purpose, results: found.length } });
      res.json({ licenses: found });
    } catch (err) {
      next(err);
    }
  });
  router.get('/v1/licenses/:id', requireRole(deps.clients, 'issue'), async (req, res, next) => {
    try {
      res.json(await find(String(req.params.id)));
    } catch (err) {
      next(err);
    }
  });
  router.post('/v1/licenses/:id/revoke', requireRole(deps.clients, 'revoke'), express.json({ limit: 16 * 1024 }), async (req, res, next) => {
    try {
      const { reason } = RevokeLicenseBody.parse(req.body ?? {});
      const revoked = await deps.licenses.revoke(String(req.params.id), reason);
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
        details: { replaces: String(req.params.id), reason: body.reason },
      });
      res.status(201).location(`/v1/licenses/${encodeURIComponent(created.id)}`).json(created);
    } catch (err) {
      if (err instanceof LicenseStateError) return next(new HttpProblem(409, 'license-state', 'The license cannot be replaced', err.message));
      if (err instanceof LicenseValidationError) return next(new HttpProblem(422, 'invalid-license-fields', 'Some fields are invalid', err.problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems: err.problems }));
      next(err);
    }
  });
  router.get('/v1/licenses/:id/pdf', requireRole(deps.clients, 'issue'), async (req, res, next) => {
    try {
      const record = await find(String(req.params.id));
      res.type('application/pdf').setHeader('Content-Disposition', `attachment; filename="${record.number}.pdf"`);
      res.send(await deps.licenses.pdf(record.id));
    } catch (err) {
      next(err);
    }
  });
  return router;
}

export type LicenseVerdict = 'authentic' | 'signature-invalid' | 'document-altered' | 'not-in-registry' | 'not-yet-valid' | 'revoked' | 'superseded' | 'expired';

/** Public: the QR page `GET /v/{id}?c=...` and `POST /v1/licenses/verify`. */
export function licenseVerificationRouter(deps: { licenses: LicenseService; maxBodyBytes: number; processingTimeMs: number; workLimits?: WorkLimits; verify: (pdf: Buffer) => Promise<ValidationReport> }): Router {
  const router = Router();
  router.get('/v/:id', async (req, res, next) => {
    try {
      const id = String(req.params.id);
      const code = typeof req.query.c === 'string' ? req.query.c : '';
      const record = deps.licenses.checkCodeMatches(id, code) ? await deps.licenses.get(id) : undefined;
      res.status(record ? 200 : 404).type('text/html; charset=utf-8').setHeader('Cache-Control', 'no-store');
      res.send(renderVerificationPage(record, deps.licenses.timeZone));
    } catch (err) {
      next(err);
    }
  });
  router.post('/v1/licenses/verify', ...pdfBody(deps.maxBodyBytes, deps.processingTimeMs, deps.workLimits), async (req, res, next) => {
    try {
      const pdf = req.body as Buffer;
      const report = await deps.verify(pdf);
      const record = await deps.licenses.findBySha256(createHash('sha256').update(pdf).digest('hex'));
      const sigs = report.signatures.filter((s) => s.kind === 'signature');
      let verdict: LicenseVerdict;
      let detail: string;
      if (sigs.length === 0) {
        verdict = 'not-in-registry';
        detail = 'the file carries no seal';
      } else if (sigs.some((s) => s.subIndication === 'HASH_FAILURE' || !s.changesAfterSigning.permitted || s.coverage === 'partial')) {
        verdict = 'document-altered';
        detail = 'the content was changed after the seal was applied';
      } else if (sigs.some((s) => s.indication === 'TOTAL_FAILED')) {
        verdict = 'signature-invalid';
        detail = sigs.map((s) => s.subIndication).filter(Boolean).join(', ');
      } else if (!record) {
        verdict = 'not-in-registry';
        detail = 'the seals are intact, but this file is not a license issued here';
      } else if (record.status === 'valid') {
        verdict = 'authentic';
        detail = 'issued here, unaltered and currently valid';
      } else {
        verdict = record.status;
        detail =
          record.status === 'revoked'
            ? `revoked on ${record.revokedAt}: ${record.revokeReason}`
            : record.status === 'superseded'
              ? `replaced by ${record.supersededBy}`
              : record.status === 'not-yet-valid'
                ? `issued here and unaltered, but valid only from ${record.validFrom}`
                : `valid until ${record.validUntil}`;
      }
      res.json({
        verdict,
        detail,
        license: record ? { id: record.id, name: record.name, number: record.number, status: record.status, issuer: record.issuerName, holder: maskName(record.holderName) } : null,
        signatures: sigs.map((s) => ({ fieldName: s.fieldName, indication: s.indication, subIndication: s.subIndication, seal: s.seal })),
      });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
