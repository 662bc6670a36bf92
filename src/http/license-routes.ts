import express, { Router } from 'express';
import { LicenseValidationError, type LicenseService } from '../licenses/issuance.js';
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

/** Issuing and reading licenses (`POST /v1/licenses`, `GET /v1/licenses/{id}`, `/pdf`). */
export function licensesRouter(deps: { licenses: LicenseService; clients: ApiClientStore }): Router {
  const router = Router();
  router.post('/v1/licenses', requireRole(deps.clients, 'issue'), express.json({ limit: 256 * 1024 }), async (req, res, next) => {
    try {
      const body = (req.body ?? {}) as { type?: unknown; holder?: { name?: unknown; code?: unknown }; fields?: unknown };
      if (typeof body.type !== 'string' || typeof body.holder !== 'object' || body.holder === null || typeof body.fields !== 'object' || body.fields === null || Array.isArray(body.fields)) {
        throw new HttpProblem(400, 'invalid-request', 'Send {type, holder: {name, code}, fields}');
      }
      const record = await deps.licenses.issue(body.type, { holder: { name: body.holder.name, code: body.holder.code }, fields: body.fields as Record<string, unknown> });
      res.status(201).location(`/v1/licenses/${encodeURIComponent(record.id)}`).json(record);
    } catch (err) {
      if (err instanceof LicenseValidationError) {
        next(new HttpProblem(422, 'invalid-license-fields', 'Some fields are invalid', err.problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems: err.problems }));
        return;
      }
      next(err);
    }
  });
  const find = async (id: string) => {
    const record = await deps.licenses.get(id);
    if (!record) throw new HttpProblem(404, 'unknown-license', 'No such license', `there is no license ${id}`);
    return record;
  };
  router.get('/v1/licenses/:id', requireRole(deps.clients, 'issue'), async (req, res, next) => {
    try {
      res.json(await find(String(req.params.id)));
    } catch (err) {
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
