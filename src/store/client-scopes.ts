import type { Db } from './db.js';

/** A purpose a client may state when it reads licences (用证事由), and the licence types it covers. */
export interface ClientPurpose {
  purpose: string;
  types: string[];
}

/**
 * What a client may do with licences beyond its roles: the issuing authorities it acts for
 * (by USCC, as licences name their issuer) and the purposes it may read them for.
 */
export class ClientScopeStore {
  constructor(private readonly db: Db) {}

  async authorities(clientId: string): Promise<string[]> {
    const rows = await this.db.all<{ issuer_code: string }>('SELECT issuer_code FROM client_authorities WHERE client_id = ? ORDER BY issuer_code', [clientId]);
    return rows.map((r) => r.issuer_code);
  }

  /** Adds authorities; those already bound stay as they are. */
  async bind(clientId: string, issuerCodes: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const code of issuerCodes) await tx.run('INSERT INTO client_authorities (client_id, issuer_code) VALUES (?, ?) ON CONFLICT DO NOTHING', [clientId, code]);
    });
  }

  /** Removes authorities; returns how many were bound. */
  async unbind(clientId: string, issuerCodes: readonly string[]): Promise<number> {
    return this.db.transaction(async (tx) => {
      let removed = 0;
      for (const code of issuerCodes) removed += (await tx.run('DELETE FROM client_authorities WHERE client_id = ? AND issuer_code = ?', [clientId, code])).changes;
      return removed;
    });
  }

  async purposes(clientId: string): Promise<ClientPurpose[]> {
    const rows = await this.db.all<{ purpose: string; license_types: string }>('SELECT purpose, license_types FROM client_purposes WHERE client_id = ? ORDER BY purpose', [clientId]);
    return rows.map((r) => ({ purpose: r.purpose, types: JSON.parse(r.license_types) as string[] }));
  }

  async purpose(clientId: string, purpose: string): Promise<ClientPurpose | undefined> {
    const row = await this.db.get<{ purpose: string; license_types: string }>('SELECT purpose, license_types FROM client_purposes WHERE client_id = ? AND purpose = ?', [clientId, purpose]);
    return row ? { purpose: row.purpose, types: JSON.parse(row.license_types) as string[] } : undefined;
  }

  /** Sets a purpose's licence types, replacing those it had. */
  async setPurpose(clientId: string, purpose: string, types: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM client_purposes WHERE client_id = ? AND purpose = ?', [clientId, purpose]);
      await tx.run('INSERT INTO client_purposes (client_id, purpose, license_types) VALUES (?, ?, ?)', [clientId, purpose, JSON.stringify([...new Set(types)].sort())]);
    });
  }

  async removePurpose(clientId: string, purpose: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM client_purposes WHERE client_id = ? AND purpose = ?', [clientId, purpose])).changes > 0;
  }
}
