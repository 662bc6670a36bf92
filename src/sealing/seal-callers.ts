import type { SealStanding, SealStatus } from '../seals/seal-record.js';
import { hashToken, type ApiClient, type Role } from '../store/api-clients.js';
import type { Db } from '../store/db.js';

/** Who asks to seal with which seal, as the database had it at `readAt`. */
export interface SealCaller {
  client: Omit<ApiClient, 'sealIds'>;
  /** Whether the client's seal list holds the seal asked for. */
  permitted: boolean;
  /** The seal's standing; absent when there is no such seal. */
  standing?: SealStanding;
  /** When this was read from the database (`Date.now()`). */
  readAt: number;
}

/** Reads remembered at most: more than the pairs of token and seal a service sees in a few milliseconds. */
const MAX_REMEMBERED = 10_000;

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
 * use the seal, and the seal's standing. On PostgreSQL each read is a round trip, which costs the
 * database more than the rest of a sealing does, so a read that found both client and seal is
 * remembered for `rememberMs`: a client sending many documents is read about once per window,
 * not once per document. What a remembered read misses (a client disabled, a seal revoked
 * meanwhile) is read again, under the audit chain's lock, before any answer
 * (`sealing-authority.ts`); and the key signs only while the read it was judged on is fresh
 * (`SEAL_STANDING_FRESH_MS`, of which this window is half, so a remembered read leaves the
 * signing at least the other half).
 */
export class SealCallers {
  private readonly remembered = new Map<string, SealCaller>();

  constructor(
    private readonly db: Db,
    private readonly rememberMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** Undefined when no client has the token. */
  async read(token: string, sealId: string): Promise<SealCaller | undefined> {
    // A token has no white space (see http/auth.ts), so the key names one pair.
    const key = `${token} ${sealId}`;
    const kept = this.remembered.get(key);
    if (kept && this.now() - kept.readAt < this.rememberMs) return kept;
    const caller = await this.readNow(token, sealId);
    this.remembered.delete(key);
    if (caller?.standing && this.rememberMs > 0) {
      this.remembered.set(key, caller);
      if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    }
    return caller;
  }

  private async readNow(token: string, sealId: string): Promise<SealCaller | undefined> {
    const readAt = this.now();
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
    return { client, permitted: row.permitted === 1, ...(standing ? { standing } : {}), readAt };
  }
}
