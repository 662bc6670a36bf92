import type { RequestHandler } from 'express';
import type { StatusCache } from '../revocation/cache.js';
import { HttpProblem } from './problem.js';

/**
 * A per-address limit for the public routes, counted in the shared cache so that every
 * instance behind the load balancer enforces the same budget.
 */
export function publicRateLimit(counter: StatusCache, perMinute: number): RequestHandler {
  return (req, res, next) => {
    if (perMinute <= 0) return next();
    // The window opens with an address's first request and lasts a minute.
    counter
      .increment(req.ip ?? 'unknown', 60_000)
      .then((count) => {
        if (count > perMinute) {
          res.setHeader('Retry-After', '60');
          throw new HttpProblem(429, 'rate-limited', 'Too many requests', `at most ${perMinute} public requests per minute from one address`);
        }
        next();
      })
      .catch(next);
  };
}
