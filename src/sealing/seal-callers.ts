import type { SealStanding, SealStatus } from '../seals/seal-record.js';
import { hashToken, type ApiClient, type Role } from '../store/api-clients.js';
import type { Db } from '../store/db.js';

/** Who asks to seal with which seal, as the database has it now. */
export interface SealCaller {
  client: Omit<ApiClient, 'sealIds'>;
  /** Whether the client's seal list holds the seal asked for. */
  permitted: boolean;
  /** The seal's standing; absent when there is no such seal. */
  standing?: SealStanding;
}

interface CallerRow {
  id: string;
  name: string;
  roles: string;
  disabled: number;
  permitted: number;
  status: string | null;
  not_before: string | null;
  not_after: string | null;
}

/**
 * A sealing request's whole authority in one indexed read: the token's client, whether it may
 * use the seal, and the seal's standing. On PostgreSQL each read is a round trip, and a sealing
 * makes this one where it made three.
 */
export class SealCallers {
  constructor(private readonly db: Db) {}

  /** Undefined when no client has the token. */
  async read(token: string, sealId: string): Promise<SealCaller | undefined> {
    const row = await this.db.get<CallerRow>(
      `SELECT c.id, c.name, c.roles, c.disabled,
              CASE WHEN EXISTS (SELECT 1 FROM client_seals p WHERE p.client_id = c.id AND p.seal_id = ?) THEN 1 ELSE 0 END AS permitted,
              s.status, s.not_before, s.not_after
       FROM api_clients c LEFT JOIN seals s ON s.id = ?
       WHERE c.token_hash = ?`,
      [sealId, sealId, hashToken(token)],
    );
    if (!row) return undefined;
    const client = { id: row.id, name: row.name, roles: JSON.parse(row.roles) as Role[], disabled: row.disabled !== 0 };
    const standing = row.status === null ? undefined : { id: sealId, status: row.status as SealStatus, notBefore: row.not_before!, notAfter: row.not_after! };
    return { client, permitted: row.permitted === 1, ...(standing ? { standing } : {}) };
  }
}
