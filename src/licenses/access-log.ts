import type { AuditLog } from '../audit/log.js';
import type { Db } from '../store/db.js';

/** What a client read: a licence's record, its PDF, or the licences of a holder (a search). */
export type LicenseAccess = 'record' | 'pdf' | 'holder-search';

export interface LicenseRead {
  clientId: string;
  holderCode: string;
  /** The licence read; absent for a search by holder code. */
  licenseId?: string;
  access: LicenseAccess;
  purpose: string;
  /** How many licences the answer held. */
  results: number;
}

/** One line of a holder's access log. */
export interface AccessLogEntry {
  at: string;
  client: { id: string; name: string | null };
  purpose: string;
  access: LicenseAccess;
  licenseId: string | null;
  results: number;
}

/** A holder code as the audit log keeps it: its first four and last two characters. */
export function maskHolderCode(code: string): string {
  // By code point: a character outside the BMP is kept whole, never half of it.
  const characters = Array.from(code);
  return `${characters.slice(0, 4).join('')}***${characters.slice(-2).join('')}`;
}

/**
 * Whether `code` can be searched for and recorded: 1 to 40 UTF-16 units, no control or format
 * character (no licence holds one, and PostgreSQL text cannot hold a NUL) and no lone surrogate
 * (stored as U+FFFD, so what is recorded would not be what was asked).
 */
export function isSearchableHolderCode(code: string): boolean {
  return code.length > 0 && code.length <= 40 && /^[^\p{Cc}\p{Cf}\p{Cs}]*$/u.test(code);
}

/**
 * Who read a holder's licences, when and for what purpose (art. 33). A read is recorded, with
 * its audit entry in the same transaction, before anything is returned: there is no answer
 * without both.
 */
export class LicenseAccessLog {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  async record(read: LicenseRead, at = new Date()): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO license_lookups (client_id, holder_code, purpose, results, looked_up_at, license_id, access) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        read.clientId,
        read.holderCode,
        read.purpose,
        read.results,
        at.toISOString(),
        read.licenseId ?? null,
        read.access,
      ]);
      // The full holder code stays in the access log; the audit chain, kept for ever, has it masked.
      await this.audit.appendIn(
        tx,
        { actor: read.clientId, action: 'license.lookup', subject: read.licenseId ?? maskHolderCode(read.holderCode), details: { purpose: read.purpose, access: read.access, results: read.results } },
        at,
      );
    });
  }

  /**
   * Every read of the holder's licences, oldest first, with the reading client's name; with
   * `types`, only reads of licences of those types (and searches, which name no licence).
   */
  async forHolder(holderCode: string, types?: readonly string[]): Promise<AccessLogEntry[]> {
    const ofTypes = types ? ` AND (l.license_id IS NULL OR lic.type IN (${types.length ? types.map(() => '?').join(', ') : 'NULL'}))` : '';
    const rows = await this.db.all<{ looked_up_at: string; client_id: string; name: string | null; purpose: string; access: string | null; license_id: string | null; results: number }>(
      `SELECT l.looked_up_at, l.client_id, c.name, l.purpose, l.access, l.license_id, l.results
       FROM license_lookups l LEFT JOIN api_clients c ON c.id = l.client_id LEFT JOIN licenses lic ON lic.id = l.license_id
       WHERE l.holder_code = ?${ofTypes} ORDER BY l.id`,
      [holderCode, ...(types ?? [])],
    );
    return rows.map((r) => ({
      at: r.looked_up_at,
      client: { id: r.client_id, name: r.name },
      purpose: r.purpose,
      access: (r.access ?? 'holder-search') as LicenseAccess,
      licenseId: r.license_id,
      results: Number(r.results),
    }));
  }
}
