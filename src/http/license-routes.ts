import { Router } from 'express';
import type { LicenseType } from '../licenses/types.js';

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
