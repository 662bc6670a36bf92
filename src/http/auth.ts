import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiClient, ApiClientStore, Role } from '../store/api-clients.js';
import { HttpProblem } from './problem.js';

declare module 'express-serve-static-core' {
  interface Request {
    client?: ApiClient;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1];
}

/** Refuses, 401 or 403, a token of no client, of a disabled one, or of one without `role` (or `admin`). */
export function assertRole<T extends Pick<ApiClient, 'roles' | 'disabled'>>(client: T | undefined, role: Role): asserts client is T {
  if (!client || client.disabled) throw new HttpProblem(401, 'unauthenticated', 'Authentication required', 'the API key is unknown or disabled');
  if (!client.roles.includes(role) && !client.roles.includes('admin')) {
    throw new HttpProblem(403, 'forbidden', 'Not allowed', `this API key lacks the "${role}" role`);
  }
}

/** Requires `Authorization: Bearer <token>` of an enabled client holding `role`. */
export function requireRole(clients: ApiClientStore, role: Role): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization') ?? '');
    if (!token) {
      next(new HttpProblem(401, 'unauthenticated', 'Authentication required', 'send Authorization: Bearer <api key>'));
      return;
    }
    clients
      .findByToken(token)
      .then((client) => {
        assertRole(client, role);
        req.client = client;
        next();
      })
      .catch(next);
  };
}
