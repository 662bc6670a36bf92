import express, { Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.js';
import { isSearchableHolderCode, maskHolderCode, type LicenseAccessLog } from '../licenses/access-log.js';
import type { LicenseService } from '../licenses/issuance.js';
import type { ApiClientStore } from '../store/api-clients.js';
import type { ClientScopeStore } from '../store/client-scopes.js';
import { requireRole } from './auth.js';
import { grantedPurpose } from './license-scope.js';
import { HttpProblem } from './problem.js';

/** A holder proves itself with its code and one of its licences with that licence's check code (the QR code's `c`). */
export const HolderAccessLogBody = z
  .object({
    holderCode: z.string().min(1).max(40),
    licenseId: z.string().min(1).max(200),
    checkCode: z.string().min(1).max(64),
  })
  .strict();

const normalise = (code: string): string => code.trim().toUpperCase();

/**
 * Who read a holder's licences, when and for what purpose:
 * `POST /v1/holders/access-log` for the holder itself (rate-limited per address in `app.ts`), and
 * `GET /v1/holders/{holderCode}/access-log?purpose=` for a client with the `lookup` role acting for
 * the holder. Every failed proof gets one and the same answer, whether the licence exists or not.
 */
export function holderRouter(deps: { licenses: LicenseService; clients: ApiClientStore; scopes: ClientScopeStore; accessLog: LicenseAccessLog; audit: AuditLog }): Router {
  const router = Router();

  router.post('/v1/holders/access-log', express.json({ limit: 4 * 1024 }), async (req, res, next) => {
    try {
      const parsed = HolderAccessLogBody.safeParse(req.body ?? {});
      const given = parsed.success ? parsed.data : undefined;
      // The check code is compared first and in constant time: without the right one nothing is read.
      const record = given && deps.licenses.checkCodeMatches(given.licenseId, given.checkCode) ? await deps.licenses.get(given.licenseId) : undefined;
      if (!given || !record || record.holderCode !== normalise(given.holderCode)) {
        throw new HttpProblem(404, 'holder-not-verified', 'The holder could not be verified', 'the holder code, licence identifier and check code do not belong together');
      }
      const entries = await deps.accessLog.forHolder(record.holderCode);
      await deps.audit.append({ actor: 'holder', action: 'license.access-log', subject: maskHolderCode(record.holderCode), details: { via: 'check-code', licenseId: record.id, entries: entries.length } });
      res.setHeader('Cache-Control', 'no-store').json({ holderCode: record.holderCode, entries });
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/holders/:holderCode/access-log', requireRole(deps.clients, 'lookup'), async (req, res, next) => {
    try {
      const purpose = await grantedPurpose(deps.scopes, req);
      const holderCode = normalise(String(req.params.holderCode));
      if (!isSearchableHolderCode(holderCode)) throw new HttpProblem(400, 'invalid-request', 'Give the holder code', 'the holder code in /v1/holders/{holderCode}/access-log: 1 to 40 characters, none a control or format character');
      // a client acting for the holder sees the reads of the licence types its purpose covers
      const entries = await deps.accessLog.forHolder(holderCode, purpose.types);
      await deps.audit.append({ actor: req.client!.id, action: 'license.access-log', subject: maskHolderCode(holderCode), details: { via: 'client', purpose: purpose.purpose, entries: entries.length } });
      res.setHeader('Cache-Control', 'no-store').json({ holderCode, entries });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
