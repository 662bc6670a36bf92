import express, { Router } from 'express';
import { HttpProblem } from './problem.js';

/** A responder: DER OCSPRequest in, DER OCSPResponse out. */
export interface OcspAnswerer {
  respond(request: Buffer): Promise<Buffer>;
}

/** RFC 6960 appendix A: `POST /ocsp` and `GET /ocsp/{url-encoded base64 request}`. */
export function ocspRouter(responder: OcspAnswerer): Router {
  const router = Router();
  const answer = async (request: Buffer, res: express.Response): Promise<void> => {
    const response = await responder.respond(request);
    res.type('application/ocsp-response').setHeader('Cache-Control', 'max-age=60, public');
    res.send(response);
  };
  router.post('/ocsp', express.raw({ type: () => true, limit: 64 * 1024 }), async (req, res, next) => {
    try {
      const type = (req.get('content-type') ?? '').split(';')[0]!.trim();
      if (type !== 'application/ocsp-request') throw new HttpProblem(415, 'unsupported-media-type', 'Send an OCSP request as application/ocsp-request');
      await answer(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), res);
    } catch (err) {
      next(err);
    }
  });
  router.get('/ocsp/:request', async (req, res, next) => {
    try {
      const encoded = decodeURIComponent(String(req.params.request));
      if (encoded.length > 8192 || !/^[A-Za-z0-9+/=_-]+$/.test(encoded)) throw new HttpProblem(400, 'bad-ocsp-request', 'The OCSP request is not base64');
      await answer(Buffer.from(encoded, 'base64'), res);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
