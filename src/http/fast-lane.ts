import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HttpProblem, sendProblem, toProblem } from './problem.js';
import type { AnsweredRequest } from './request-log.js';
import { closeAfterAnswer } from './close-after-answer.js';

/**
 * Routes that other platform components call thousands of times a second, answered by node's
 * HTTP server directly rather than through Express. Express's per-request work (its request and
 * response objects, a walk through every router, the query parser) costs several times what a
 * cached certificate status does; a lane route does only what its answer needs. Everything else
 * goes to Express unchanged. A lane route is logged, measured and answers errors as problem+json
 * exactly as the Express routes do.
 */
export interface LaneRoute {
  method: 'POST' | 'GET';
  path: string;
  /** Answers the request; a thrown error becomes problem+json. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface LaneDeps {
  logger: Logger;
  record: (request: AnsweredRequest) => void;
}

/** The request listener: lane routes first, by exact method and path (any query ignored), then Express. */
export function withFastLane(express: RequestListener, routes: LaneRoute[], deps: LaneDeps): RequestListener {
  const byKey = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]));
  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const route = byKey.get(`${req.method} ${path}`);
    if (!route) {
      express(req, res);
      return;
    }
    const started = process.hrtime.bigint();
    res.once('finish', () => deps.record({ method: req.method!, path, route: route.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    route.handle(req, res).catch((err: unknown) => {
      const problem = toProblem(err);
      if (problem.status >= 500) deps.logger.error({ err, method: req.method, path }, 'request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendProblem(res, problem, path);
    });
  };
}

/**
 * The request body, refused with 413 past `limit` bytes: at once when the declared length is
 * over it, else as soon as that many bytes have arrived. A refused request's connection is closed
 * behind the answer (`closeAfterAnswer`), so the rest of its body is not read.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer> {
  const tooLarge = (): HttpProblem => {
    closeAfterAnswer(req, res);
    return new HttpProblem(413, 'body-too-large', 'The request body is too large', `the limit is ${limit} bytes`);
  };
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new HttpProblem(400, 'body-incomplete', 'The request body ended early'));
    });
  });
}
