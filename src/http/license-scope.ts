import type { Request } from 'express';
import { purposeNameProblem, type IssuerScope } from '../licenses/scope.js';
import type { ApiClient } from '../store/api-clients.js';
import type { ClientPurpose, ClientScopeStore } from '../store/client-scopes.js';
import { HttpProblem } from './problem.js';

/** The authorities and seals an authenticated client issues, replaces and revokes with. */
export async function issuerScopeOf(scopes: ClientScopeStore, client: ApiClient): Promise<IssuerScope> {
  return { authorities: await scopes.authorities(client.id), sealIds: client.sealIds };
}

/**
 * The purpose the request states in its `purpose` query parameter, which must be one the
 * administrator configured for this client (`admin clients purpose`).
 */
export async function grantedPurpose(scopes: ClientScopeStore, req: Request): Promise<ClientPurpose> {
  const stated = typeof req.query.purpose === 'string' ? req.query.purpose : '';
  if (stated === '') throw new HttpProblem(400, 'purpose-required', 'State the purpose of the lookup (用证事由)', '?purpose=... naming one of the purposes configured for this API key; it is recorded');
  const problem = purposeNameProblem(stated);
  if (problem) throw new HttpProblem(400, 'invalid-purpose', 'The purpose is invalid', problem);
  const granted = await scopes.purpose(req.client!.id, stated);
  if (!granted) throw new HttpProblem(403, 'purpose-not-permitted', 'This purpose is not configured for this client', `"${stated}" is not one of the purposes this API key may read licences for`);
  return granted;
}
