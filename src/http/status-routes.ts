import express, { Router } from 'express';
import { X509Certificate } from 'node:crypto';
import { pemToDerList } from '../pki/pem.js';
import { readCertFields } from '../pki/cert-fields.js';
import { StatusService } from '../revocation/status-service.js';
import { HttpProblem } from './problem.js';

const MAX_CERTIFICATES = 20;

/** `POST /v1/certificates/status`: PEM (one or many) or one DER certificate; the chain may follow. */
export function statusRouter(deps: { status: StatusService; knownIssuers: () => Buffer[] }): Router {
  const router = Router();
  router.post('/v1/certificates/status', express.raw({ type: () => true, limit: 256 * 1024 }), async (req, res, next) => {
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (body.length === 0) throw new HttpProblem(400, 'empty-body', 'Send one or more certificates (PEM or DER)');
      const text = body.toString('latin1');
      const certificates = text.includes('-----BEGIN CERTIFICATE-----') ? pemToDerList(text) : [body];
      if (certificates.length > MAX_CERTIFICATES) throw new HttpProblem(413, 'too-many-certificates', `At most ${MAX_CERTIFICATES} certificates per request`);
      for (const der of certificates) {
        try {
          new X509Certificate(der);
        } catch {
          throw new HttpProblem(422, 'invalid-certificate', 'A certificate cannot be parsed', 'send PEM certificates or one DER certificate');
        }
      }
      // The first certificate is asked about; with a chain, every certificate that has its issuer in the request or known to the service.
      const pool = [...certificates, ...deps.knownIssuers()];
      const results = [];
      for (const der of certificates) {
        const x509 = new X509Certificate(der);
        if (x509.checkIssued(x509) && certificates.length > 1) continue; // self-signed anchors have no status
        const issuer = StatusService.issuerOf(der, pool.filter((c) => !c.equals(der)));
        const base = { subject: x509.subject.replace(/\n/g, ', '), issuer: x509.issuer.replace(/\n/g, ', '), serialNumber: readCertFields(der).serialHex };
        if (!issuer) {
          results.push({ ...base, status: 'unknown', detail: 'the issuer certificate is not known: send the chain after the certificate', cached: false, stale: false });
          continue;
        }
        const answer = await deps.status.status(der, issuer);
        results.push({
          ...base,
          status: answer.checked ? answer.status : 'unknown',
          revokedAt: answer.revokedAt,
          reason: answer.reason,
          source: answer.source,
          thisUpdate: answer.thisUpdate,
          nextUpdate: answer.nextUpdate,
          cached: answer.cached,
          stale: answer.stale,
          detail: answer.detail,
        });
      }
      res.json({ certificates: results });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
