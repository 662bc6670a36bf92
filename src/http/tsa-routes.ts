import express, { Router } from 'express';
import type { DevTimeStampAuthority } from '../devpki/tsa.js';
import { HttpProblem } from './problem.js';
import { mediaType } from './media-type.js';

/** `POST /tsa`: the development TSA over RFC 3161 HTTP transport. */
export function tsaRouter(tsa: DevTimeStampAuthority): Router {
  const router = Router();
  router.post('/tsa', express.raw({ type: () => true, limit: 16 * 1024 }), async (req, res, next) => {
    try {
      const type = mediaType(req.get('content-type'));
      if (type !== 'application/timestamp-query') {
        throw new HttpProblem(415, 'unsupported-media-type', 'Send a TimeStampReq as application/timestamp-query');
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.type('application/timestamp-reply').send(await tsa.respond(body));
    } catch (err) {
      next(err);
    }
  });
  return router;
}
