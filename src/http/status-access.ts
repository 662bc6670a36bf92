import type { RequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import type { StatusCache } from '../revocation/cache.js';
import type { ApiClientStore } from '../store/api-clients.js';
import { bearerToken } from './auth.js';
import { HttpProblem } from './problem.js';
import { addressKey, countRequest } from './rate-limit.js';

type Caller = Awaited<ReturnType<ApiClientStore['findCallerByToken']>>;

/** How long who holds a token is remembered by the status routes. */
const CALLER_TTL_MS = 1_000;
const MAX_CALLERS = 10_000;

/**
 * Who holds a token, as the status routes need it. Status answers are public (anonymous callers
 * get the same answers): a token only chooses whose rate-limit budget a request counts against.
 * So a token's client is remembered for a second rather than read from the database for each of
 * thousands of requests a second; a client disabled or created meanwhile is seen within it.
 */
export class StatusCallers {
  private readonly known = new Map<string, { caller: Caller; until: number }>();

  constructor(
    private readonly clients: ApiClientStore,
    private readonly now: () => number = Date.now,
  ) {}

  async find(token: string): Promise<Caller> {
    const now = this.now();
    const kept = this.known.get(token);
    if (kept && kept.until > now) return kept.caller;
    const caller = await this.clients.findCallerByToken(token);
    this.known.delete(token);
    this.known.set(token, { caller, until: now + CALLER_TTL_MS });
    if (this.known.size > MAX_CALLERS) this.known.delete(this.known.keys().next().value!);
    return caller;
  }
}

export interface StatusAccessOptions {
  callers: StatusCallers;
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
  const { callers, counter, publicPerMinute, clientPerMinute } = options;
  if (authorization === undefined) {
    await countRequest(counter, addressKey(address), publicPerMinute, res, `at most ${publicPerMinute} anonymous requests per minute from one address; platform components send a client token with the "status" role`);
    return;
  }
  const token = bearerToken(authorization);
  if (!token) throw new HttpProblem(401, 'unauthenticated', 'Authentication required', 'send Authorization: Bearer <api key>, or no Authorization header at all');
  const client = await callers.find(token);
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
