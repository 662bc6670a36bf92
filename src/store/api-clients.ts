import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AUDIT_CHAIN_LOCK, type AuditLog } from '../audit/log.js';
import type { Db } from './db.js';

/** `status`: a platform component asking certificate status, limited per client rather than per address. */
export const ROLES = ['seal', 'issue', 'revoke', 'lookup', 'status', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiClient {
  id: string;
  name: string;
  roles: Role[];
  sealIds: string[];
  disabled: boolean;
}

interface ClientRow {
  id: string;
  name: string;
  roles: string;
  disabled: number;
}

/** Tokens are 256-bit random values; only their SHA-256 is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class ApiClientStore {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  /** Creates a client and returns its token, which is not kept anywhere. */
  async create(name: string, roles: Role[], sealIds: string[]): Promise<{ client: ApiClient; token: string }> {
    const id = randomUUID();
    const token = `esk_${randomBytes(32).toString('base64url')}`;
    await this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO api_clients (id, name, token_hash, roles, disabled, created_at) VALUES (?, ?, ?, ?, 0, ?)', [
        id,
        name,
        hashToken(token),
        JSON.stringify(roles),
        new Date().toISOString(),
      ]);
      for (const sealId of sealIds) await tx.run('INSERT INTO client_seals (client_id, seal_id) VALUES (?, ?)', [id, sealId]);
    });
    return { client: { id, name, roles, sealIds, disabled: false }, token };
  }

  /** The client a token belongs to, with its seals, in one read (a row per seal): every authenticated request asks this. */
  async findByToken(token: string): Promise<ApiClient | undefined> {
    const rows = await this.db.all<ClientRow & { seal_id: string | null }>(
      'SELECT c.id, c.name, c.roles, c.disabled, s.seal_id FROM api_clients c LEFT JOIN client_seals s ON s.client_id = c.id WHERE c.token_hash = ? ORDER BY s.seal_id',
      [hashToken(token)],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { id: row.id, name: row.name, roles: JSON.parse(row.roles) as Role[], sealIds: rows.flatMap((r) => (r.seal_id === null ? [] : [r.seal_id])), disabled: row.disabled !== 0 };
  }

  /** The client a token belongs to, without its seals: one indexed read, for routes that answer many requests a second. */
  async findCallerByToken(token: string): Promise<Omit<ApiClient, 'sealIds'> | undefined> {
    const row = await this.db.get<ClientRow>('SELECT id, name, roles, disabled FROM api_clients WHERE token_hash = ?', [hashToken(token)]);
    return row ? { id: row.id, name: row.name, roles: JSON.parse(row.roles) as Role[], disabled: row.disabled !== 0 } : undefined;
  }

  async get(id: string): Promise<ApiClient | undefined> {
    const row = await this.db.get<ClientRow>('SELECT id, name, roles, disabled FROM api_clients WHERE id = ?', [id]);
    return row ? this.hydrate(row) : undefined;
  }

  async list(): Promise<ApiClient[]> {
    const rows = await this.db.all<ClientRow>('SELECT id, name, roles, disabled FROM api_clients ORDER BY created_at');
    return Promise.all(rows.map((row) => this.hydrate(row)));
  }

  /**
   * Disables a client and records it (`client.disable`), in one transaction under the audit
   * chain's lock: a sealing whose entry is written after this sees the client disabled
   * (`sealing/sealing-authority.ts`). False when it was disabled already or does not exist.
   */
  async disable(id: string, actor = 'service'): Promise<boolean> {
    return this.db.transaction(
      async (tx) => {
        const result = await tx.run('UPDATE api_clients SET disabled = 1 WHERE id = ? AND disabled = 0', [id]);
        if (result.changes === 0) return false;
        await this.audit.appendIn(tx, { actor, action: 'client.disable', subject: id });
        return true;
      },
      { locks: [AUDIT_CHAIN_LOCK] },
    );
  }

  async grantSeal(clientId: string, sealId: string): Promise<void> {
    await this.db.run('INSERT INTO client_seals (client_id, seal_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [clientId, sealId]);
  }

  private async hydrate(row: ClientRow): Promise<ApiClient> {
    const seals = await this.db.all<{ seal_id: string }>('SELECT seal_id FROM client_seals WHERE client_id = ? ORDER BY seal_id', [row.id]);
    return {
      id: row.id,
      name: row.name,
      roles: JSON.parse(row.roles) as Role[],
      sealIds: seals.map((s) => s.seal_id),
      disabled: row.disabled !== 0,
    };
  }
}
