import type { RequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import type { StatusCache } from '../revocation/cache.js';
import { HttpProblem } from './problem.js';

const WINDOW_MS = 60_000;

/**
 * Counts one request against `key` in the shared cache (so every instance behind the load
 * balancer enforces the same budget) and refuses it with 429 beyond `perMinute`. The window
 * opens with the key's first request and lasts a minute.
 */
export async function countRequest(counter: StatusCache, key: string, perMinute: number, res: ServerResponse, detail: string): Promise<void> {
  if (perMinute <= 0) return;
  const count = await counter.increment(key, WINDOW_MS);
  if (count > perMinute) {
    res.setHeader('Retry-After', '60');
    throw new HttpProblem(429, 'rate-limited', 'Too many requests', detail);
  }
}

/** The key an anonymous caller is counted under: its address (from X-Forwarded-For only when TRUST_PROXY says so). */
export const addressKey = (ip: string | undefined): string => ip ?? 'unknown';

/** A per-address limit for the public routes. */
export function publicRateLimit(counter: StatusCache, perMinute: number): RequestHandler {
  return (req, res, next) => {
    countRequest(counter, addressKey(req.ip), perMinute, res, `at most ${perMinute} public requests per minute from one address`).then(() => next(), next);
  };
}
