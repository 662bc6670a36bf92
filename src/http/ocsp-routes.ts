import express, { Router } from 'express';
import { createHash } from 'node:crypto';
import { decodeBer, isUniversal } from '../pki/asn1.js';
import { HttpProblem } from './problem.js';
import { mediaType } from './media-type.js';

function isMalformed(request: Buffer): boolean {
  try {
    return !isUniversal(decodeBer(request, 'OCSP request', { maxBytes: 64 * 1024, maxNodes: 5_000 }), 16);
  } catch {
    return true;
  }
}

/** A responder: DER OCSPRequest in, DER OCSPResponse out. */
export interface OcspAnswerer {
  respond(request: Buffer): Promise<Buffer>;
}

const MALFORMED = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]);
const UNAUTHORIZED = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x06]);

/**
 * RFC 6960 appendix A: `POST /ocsp` and `GET /ocsp/{url-encoded base64 request}`. The
 * development CA's responder answers for its own certificates (fresh, with the client's nonce);
 * for any other CA the responder's original signed response is served from the status cache,
 * and a certificate nobody has asked about yet gets `unauthorized`.
 */
export function ocspRouter(deps: { responder?: OcspAnswerer & { answersFor(request: Buffer): boolean }; cached: (request: Buffer) => Promise<Buffer | undefined> }): Router {
  const router = Router();
  // What a request is depends on its bytes only; a client sending the same request again (no
  // nonce) is not parsed again.
  const kinds = new Map<string, 'malformed' | 'own' | 'cached'>();
  const kindOf = (request: Buffer): 'malformed' | 'own' | 'cached' => {
    const hash = createHash('sha256').update(request).digest('hex');
    let kind = kinds.get(hash);
    if (kind === undefined) {
      kind = isMalformed(request) ? 'malformed' : deps.responder?.answersFor(request) ? 'own' : 'cached';
      if (kinds.size >= 10_000) kinds.delete(kinds.keys().next().value!);
      kinds.set(hash, kind);
    }
    return kind;
  };
  const answer = async (request: Buffer, res: express.Response): Promise<void> => {
    const kind = kindOf(request);
    let response: Buffer;
    if (kind === 'malformed') response = MALFORMED;
    else if (kind === 'own') response = await deps.responder!.respond(request);
    else response = (await deps.cached(request)) ?? UNAUTHORIZED;
    // The stored bytes as they are: no re-encoding, and no ETag computed over them.
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/ocsp-response');
    res.setHeader('Cache-Control', 'max-age=60, public');
    res.setHeader('Content-Length', response.length);
    res.end(response);
  };
  router.post('/ocsp', express.raw({ type: () => true, limit: 64 * 1024 }), async (req, res, next) => {
    try {
      const type = mediaType(req.get('content-type'));
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
