import type { AuditGuard } from '../audit/guard.js';
import type { SealStatus } from '../seals/seal-record.js';
import type { Role } from '../store/api-clients.js';
import type { Statement } from '../store/db.js';
import { SealingClientError, SealUnavailableError } from './errors.js';
import { assertAllowed } from './seal-standing.js';

/** The subject a sealing's audit entry is guarded by: which client seals with which seal. */
export function sealingSubject(clientId: string, sealId: string): string {
  return JSON.stringify([clientId, sealId]);
}

interface AuthorityRow {
  client_id: string;
  seal_id: string;
  roles: string | null;
  disabled: number | null;
  permitted: number;
  status: string | null;
  not_before: string | null;
  not_after: string | null;
}

/** Why `row`'s client may not seal with its seal now, or undefined when it may. */
function refusal(row: AuthorityRow, now: Date): Error | undefined {
  if (row.roles === null || row.disabled !== 0) return new SealingClientError('client-unavailable', 'the API key is unknown or disabled');
  const roles = JSON.parse(row.roles) as Role[];
  if (!roles.includes('seal') && !roles.includes('admin')) return new SealingClientError('client-lacks-role', 'this API key lacks the "seal" role');
  const standing = row.status === null ? undefined : { id: row.seal_id, status: row.status as SealStatus, notBefore: row.not_before!, notAfter: row.not_after! };
  try {
    assertAllowed(row.seal_id, standing, row.permitted === 1 ? [row.seal_id] : [], now);
    return undefined;
  } catch (err) {
    if (err instanceof SealUnavailableError) return err;
    throw err;
  }
}

/**
 * The last word on whether a client's sealing is answered: its audit entry is written only if,
 * read in the transaction that writes it, under the audit chain's lock, the client is enabled,
 * holds the seal role and may use the seal, and the seal is usable now. A client is disabled, and
 * a seal revoked, under that lock as well (`ApiClientStore.disable`, `SealRepository.revoke`),
 * so such a change is either seen here, and the request gets nothing, or commits after the
 * sealing's entry, and the sealing came first. The reads made before (which `seal-callers.ts`
 * may remember for a few milliseconds) only spare the work of requests that would be refused.
 * All the pairs of one group commit are read in one query.
 */
export const sealingAuthorityGuard: AuditGuard = {
  read(subjects: readonly string[]): Statement {
    const pairs = subjects.map((subject) => JSON.parse(subject) as [string, string]);
    return {
      sql: `SELECT asked.column1 AS client_id, asked.column2 AS seal_id, c.roles, c.disabled,
                   CASE WHEN EXISTS (SELECT 1 FROM client_seals p WHERE p.client_id = asked.column1 AND p.seal_id = asked.column2) THEN 1 ELSE 0 END AS permitted,
                   s.status, s.not_before, s.not_after
            FROM (VALUES ${pairs.map(() => '(?, ?)').join(', ')}) AS asked
            LEFT JOIN api_clients c ON c.id = asked.column1
            LEFT JOIN seals s ON s.id = asked.column2`,
      params: pairs.flat(),
    };
  },

  subjectOf(row: unknown): string {
    return sealingSubject((row as AuthorityRow).client_id, (row as AuthorityRow).seal_id);
  },

  refusals(rows: unknown[], subjects: readonly string[]): Map<string, Error> {
    const now = new Date();
    const rowsBySubject = new Map((rows as AuthorityRow[]).map((row) => [sealingSubject(row.client_id, row.seal_id), row]));
    const refusals = new Map<string, Error>();
    for (const subject of subjects) {
      const row = rowsBySubject.get(subject);
      // Every pair asked gives a row; one that did not is refused, never let through.
      const refused = row ? refusal(row, now) : new Error(`the authority of ${subject} was not read`);
      if (refused) refusals.set(subject, refused);
    }
    return refusals;
  },
};
