import type { RequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import type { StatusCache } from '../revocation/cache.js';
import type { ApiClientStore } from '../store/api-clients.js';
import { bearerToken } from './auth.js';
import { HttpProblem } from './problem.js';
import { addressKey, countRequest } from './rate-limit.js';

export interface StatusAccessOptions {
  clients: ApiClientStore;
  counter: StatusCache;
  /** Requests per minute per address of anonymous callers (0: unlimited). */
  publicPerMinute: number;
  /** Requests per minute per client holding the `status` role (0: unlimited). */
  clientPerMinute: number;
}

/**
 * Who may ask for certificate status, and how often. Anonymous callers are limited per address;
 * platform components send a client token with the `status` role and are limited per client,
 * so many components behind one address do not share one budget. A token that is sent is
 * checked: an unknown or disabled one is 401, never treated as anonymous.
 */
export async function admitStatusRequest(options: StatusAccessOptions, authorization: string | undefined, address: string | undefined, res: ServerResponse): Promise<void> {
  const { clients, counter, publicPerMinute, clientPerMinute } = options;
  if (authorization === undefined) {
    await countRequest(counter, addressKey(address), publicPerMinute, res, `at most ${publicPerMinute} anonymous requests per minute from one address; platform components send a client token with the "status" role`);
    return;
  }
  const token = bearerToken(authorization);
  if (!token) throw new HttpProblem(401, 'unauthenticated', 'Authentication required', 'send Authorization: Bearer <api key>, or no Authorization header at all');
  const client = await clients.findCallerByToken(token);
  if (!client || client.disabled) throw new HttpProblem(401, 'unauthenticated', 'Authentication required', 'the API key is unknown or disabled');
  if (!client.roles.includes('status') && !client.roles.includes('admin')) throw new HttpProblem(403, 'forbidden', 'Not allowed', 'this API key lacks the "status" role');
  await countRequest(counter, `client:${client.id}`, clientPerMinute, res, `at most ${clientPerMinute} status requests per minute per client`);
}

/** The same admission as Express middleware (for /ocsp). */
export function statusAccess(options: StatusAccessOptions): RequestHandler {
  return (req, res, next) => {
    admitStatusRequest(options, req.headers.authorization, req.ip, res).then(() => next(), next);
  };
}
