import { Router, type Request } from 'express';
import { isSearchableHolderCode, type LicenseAccessLog } from '../licenses/access-log.js';
import type { LicenseRecord, LicenseService } from '../licenses/issuance.js';
import type { ApiClientStore } from '../store/api-clients.js';
import type { ClientPurpose, ClientScopeStore } from '../store/client-scopes.js';
import { requireRole } from './auth.js';
import { grantedPurpose } from './license-scope.js';
import { HttpProblem } from './problem.js';

/**
 * Reading licences: `GET /v1/licenses?holderCode=&purpose=`, `GET /v1/licenses/{id}?purpose=`
 * and `GET /v1/licenses/{id}/pdf?purpose=`. Each needs the `lookup` role and a purpose configured
 * for the client; it sees only the licence types that purpose covers, and every answer is
 * recorded in the holder's access log and the audit chain before it is sent.
 */
export function licenseReadRouter(deps: { licenses: LicenseService; clients: ApiClientStore; scopes: ClientScopeStore; accessLog: LicenseAccessLog }): Router {
  const router = Router();
  const lookup = requireRole(deps.clients, 'lookup');

  /** A licence of another type answers exactly as one that does not exist. */
  const readable = async (req: Request): Promise<{ record: LicenseRecord; purpose: ClientPurpose }> => {
    const purpose = await grantedPurpose(deps.scopes, req);
    const id = String(req.params.id);
    const record = await deps.licenses.get(id);
    if (!record || !purpose.types.includes(record.type)) throw new HttpProblem(404, 'unknown-license', 'No such license', `there is no license ${id} of a type this purpose covers`);
    return { record, purpose };
  };

  router.get('/v1/licenses', lookup, async (req, res, next) => {
    try {
      const purpose = await grantedPurpose(deps.scopes, req);
      const holderCode = typeof req.query.holderCode === 'string' ? req.query.holderCode.trim() : '';
      if (!isSearchableHolderCode(holderCode)) throw new HttpProblem(400, 'invalid-request', 'Give the holder code', '?holderCode=: 1 to 40 characters, none a control or format character');
      const found = await deps.licenses.findByHolder(holderCode, purpose.types);
      await deps.accessLog.record({ clientId: req.client!.id, holderCode, access: 'holder-search', purpose: purpose.purpose, results: found.length });
      res.setHeader('Cache-Control', 'no-store').json({ licenses: found });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/licenses/:id', lookup, async (req, res, next) => {
    try {
      const { record, purpose } = await readable(req);
      await deps.accessLog.record({ clientId: req.client!.id, holderCode: record.holderCode, licenseId: record.id, access: 'record', purpose: purpose.purpose, results: 1 });
      res.setHeader('Cache-Control', 'no-store').json(record);
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/licenses/:id/pdf', lookup, async (req, res, next) => {
    try {
      const { record, purpose } = await readable(req);
      const pdf = await deps.licenses.pdf(record.id);
      if (!pdf) throw new HttpProblem(404, 'unknown-license', 'No such license', `there is no license ${record.id} of a type this purpose covers`);
      await deps.accessLog.record({ clientId: req.client!.id, holderCode: record.holderCode, licenseId: record.id, access: 'pdf', purpose: purpose.purpose, results: 1 });
      res.type('application/pdf').setHeader('Cache-Control', 'no-store').setHeader('Content-Disposition', `attachment; filename="${record.number}.pdf"`);
      res.send(pdf);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
