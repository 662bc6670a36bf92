import { createHash, randomUUID } from 'node:crypto';
import { pemToDer } from '../pki/pem.js';
import { readPkcs12 } from '../pki/pfx.js';
import { Pkcs11KeyRefSchema, type Pkcs11KeyRef } from '../pki/pkcs11/key-ref.js';
import { AUDIT_CHAIN_LOCK, type AuditLog } from '../audit/log.js';
import type { Db } from '../store/db.js';
import { SealInputError } from './errors.js';
import { openTokenSigner, type SealKeys } from './keys.js';
import { certificateTbsSha256, prepareSeal, type PreparedSeal } from './registration.js';
import type { KeyRef, NewSeal, SealRecord, SealStanding, SealStatus } from './seal-record.js';
import type { SealTypePolicies } from './seal-type-policies.js';
import type { SealType } from './seal-types.js';

interface SealRow {
  id: string;
  org_name: string;
  org_uscc: string;
  seal_type: string;
  name: string;
  diameter_mm: number;
  image_png: Buffer;
  cert_chain_pem: string;
  key_ref: string;
  not_before: string;
  not_after: string;
  status: string;
  created_at: string;
  ses_seal: Buffer | null;
}

/** Seal rows with their national e-seal, when they have one. */
const SEAL_ROWS = 'SELECT seals.*, national_seals.ses_seal FROM seals LEFT JOIN national_seals ON national_seals.seal_id = seals.id';

function fromRow(row: SealRow): SealRecord {
  return {
    id: row.id,
    orgName: row.org_name,
    orgUscc: row.org_uscc,
    sealType: row.seal_type as SealType,
    name: row.name,
    diameterMm: row.diameter_mm,
    imagePng: row.image_png,
    chainPem: JSON.parse(row.cert_chain_pem) as string[],
    keyRef: JSON.parse(row.key_ref) as KeyRef,
    notBefore: row.not_before,
    notAfter: row.not_after,
    status: row.status as SealStatus,
    createdAt: row.created_at,
    sesSeal: row.ses_seal ? Buffer.from(row.ses_seal) : null,
  };
}

const UNREGISTERED_TTL_MS = 5_000;

export interface SealRepositoryDeps {
  db: Db;
  /**
   * Where revocations are recorded, in the transaction that revokes: a seal's standing changes
   * only under the audit chain's lock, which is what lets the audit entry of a sealing check the
   * standing atomically (`sealing/sealing-authority.ts`).
   */
  audit: AuditLog;
  /** Wraps the keys of imported PKCS#12 files under the service's keystore password. */
  keys: SealKeys;
  /** Which seal types a certificate may serve, by its certificate policies. */
  sealTypePolicies: SealTypePolicies;
  /** Told which seals were revoked, so what was loaded for them can go. */
  onRevoked?: (sealIds: readonly string[]) => void;
  /** The CAs a national e-seal's maker must chain to (read when a seal is registered). */
  trustAnchors?: () => readonly Buffer[];
}

/** The seal records in the database: registration, look-up, revocation. */
export class SealRepository {
  private readonly sealsByCertificate = new Map<string, { id: string; name: string }>();
  /** Certificates found in no registration, and until when that answer is used (a few seconds). */
  private readonly unregistered = new Map<string, number>();

  constructor(private readonly deps: SealRepositoryDeps) {}

  async list(): Promise<SealRecord[]> {
    const rows = await this.deps.db.all<SealRow>(`${SEAL_ROWS} ORDER BY seals.created_at, seals.id`);
    return rows.map(fromRow);
  }

  async get(id: string): Promise<SealRecord | undefined> {
    const row = await this.deps.db.get<SealRow>(`${SEAL_ROWS} WHERE seals.id = ?`, [id]);
    return row ? fromRow(row) : undefined;
  }

  /** What decides whether a seal may sign now (its status and certificate validity), without its image and keys: for the checks repeated within one request. */
  async standing(id: string): Promise<SealStanding | undefined> {
    return (await readStandings(this.deps.db, [id])).get(id);
  }

  async create(input: NewSeal): Promise<SealRecord> {
    const prepared = prepareSeal(input, this.deps.sealTypePolicies, this.deps.trustAnchors?.() ?? []);
    const record = await this.deps.db.transaction((tx) => insertSeal(tx, prepared));
    this.unregistered.clear(); // registered here: found at once
    return record;
  }

  /**
   * Registers a seal whose certificate and key arrive as a PKCS#12 file: the key is re-wrapped
   * under this service's keystore password, so the uploader's password is not kept.
   */
  async importPkcs12(input: Omit<NewSeal, 'chainDer' | 'keyRef'> & { pkcs12: Buffer; password: string }): Promise<SealRecord> {
    const { privateKey, chainDer } = readPkcs12(input.pkcs12, input.password);
    const id = input.id ?? randomUUID();
    const prepared = prepareSeal({ ...input, id, chainDer, keyRef: { kind: 'pkcs12', stored: 'database' } }, this.deps.sealTypePolicies, this.deps.trustAnchors?.() ?? []);
    const keystore = this.deps.keys.wrap(privateKey, chainDer, id);
    const record = await this.deps.db.transaction(async (tx) => {
      const inserted = await insertSeal(tx, prepared);
      await tx.run('INSERT INTO seal_keystores (seal_id, pkcs12) VALUES (?, ?)', [inserted.id, keystore]);
      return inserted;
    });
    this.unregistered.clear();
    return record;
  }

  /**
   * Registers a seal whose key is in a PKCS#11 token. The key must be there and must be the
   * key of the certificate (checked by signing a probe), so a mistyped label fails now rather
   * than at the first sealing.
   */
  async registerPkcs11(input: Omit<NewSeal, 'keyRef'> & { keyRef: Pkcs11KeyRef }): Promise<SealRecord> {
    const parsed = Pkcs11KeyRefSchema.safeParse(input.keyRef);
    if (!parsed.success) throw new SealInputError(`key reference: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'keyRef');
    const leaf = input.chainDer[0];
    if (!leaf) throw new SealInputError('a certificate chain is required', 'certificate');
    await openTokenSigner(parsed.data, leaf);
    return this.create({ ...input, keyRef: parsed.data });
  }

  /**
   * Revokes a seal and, in the same transaction, every other registration of its certificate
   * (data from versions that allowed a certificate twice): none of them can be applied any
   * more, and the certificate appears on the CRL the development CA publishes. `reason` is an
   * RFC 5280 CRLReason code. Returns the seals this revoked, empty when none was active.
   */
  async revoke(id: string, reason = 0, at = new Date(), actor = 'service'): Promise<string[]> {
    const revoked = await this.deps.db.transaction(
      async (tx) => {
        await this.recordReconciled(tx, await identifyCertificates(tx));
        const seal = await tx.get<{ cert_tbs_sha256: string }>('SELECT cert_tbs_sha256 FROM seals WHERE id = ?', [id]);
        if (!seal) return [];
        const revokedNow = await revokeRegistrations(tx, seal.cert_tbs_sha256, at.toISOString(), reason);
        for (const revokedId of revokedNow) {
          await this.deps.audit.appendIn(tx, { actor, action: 'seal.revoke', subject: revokedId, details: { reason, ...(revokedId === id ? {} : { withSeal: id }) } }, at);
        }
        return revokedNow;
      },
      { locks: [AUDIT_CHAIN_LOCK] },
    );
    this.deps.onRevoked?.([id, ...revoked]);
    return revoked;
  }

  /**
   * Brings registrations from before certificates were identified (schema 11) in line: each gets
   * its certificate's hash, and a certificate revoked under one seal is revoked under all. Run
   * at start, so an old copy of a revoked certificate stops sealing at once. Returns the seals
   * this revoked.
   */
  async reconcileCertificates(): Promise<string[]> {
    const revoked = await this.deps.db.transaction(
      async (tx) => {
        const reconciled = await identifyCertificates(tx);
        await this.recordReconciled(tx, reconciled);
        return reconciled;
      },
      { locks: [AUDIT_CHAIN_LOCK] },
    );
    this.deps.onRevoked?.(revoked);
    return revoked;
  }

  private async recordReconciled(tx: Db, sealIds: readonly string[]): Promise<void> {
    for (const sealId of sealIds) {
      await this.deps.audit.appendIn(tx, { actor: 'service', action: 'seal.revoke', subject: sealId, details: { cause: 'its certificate was revoked under another seal' } });
    }
  }

  /** Certificates of revoked seals, for the CRL: each once, with its first revocation. */
  async revokedCertificates(): Promise<Array<{ certDer: Buffer; revokedAt: Date; reason: number }>> {
    const rows = await this.deps.db.all<{ cert_chain_pem: string; revoked_at: string; revocation_reason: number | null }>(
      "SELECT cert_chain_pem, revoked_at, revocation_reason FROM seals WHERE status = 'revoked' AND revoked_at IS NOT NULL ORDER BY revoked_at",
    );
    const byLeaf = new Map<string, { certDer: Buffer; revokedAt: Date; reason: number }>();
    for (const r of rows) {
      const leaf = (JSON.parse(r.cert_chain_pem) as string[])[0]!;
      if (!byLeaf.has(leaf)) byLeaf.set(leaf, { certDer: pemToDer(leaf), revokedAt: new Date(r.revoked_at), reason: r.revocation_reason ?? 0 });
    }
    return [...byLeaf.values()];
  }

  /**
   * The registered seal a certificate belongs to (the verifier asks for every signature). Found
   * seals are remembered: a registration's certificate and name do not change. A certificate of
   * no seal is remembered for a few seconds only, so a seal registered later, perhaps by another
   * instance, is found soon after.
   */
  async findByCertificate(certDer: Buffer): Promise<{ id: string; name: string } | undefined> {
    const key = certDer.toString('base64');
    const known = this.sealsByCertificate.get(key);
    if (known) return known;
    const now = Date.now();
    if ((this.unregistered.get(key) ?? 0) > now) return undefined;
    const rows = await this.deps.db.all<{ id: string; name: string; cert_chain_pem: string }>('SELECT id, name, cert_chain_pem FROM seals ORDER BY created_at, id');
    for (const row of rows) {
      const [leaf] = JSON.parse(row.cert_chain_pem) as string[];
      if (leaf !== undefined && pemToDer(leaf).equals(certDer)) {
        const found = { id: row.id, name: row.name };
        if (this.sealsByCertificate.size < 10_000) this.sealsByCertificate.set(key, found);
        return found;
      }
    }
    if (this.unregistered.size >= 10_000) this.unregistered.clear();
    this.unregistered.set(key, now + UNREGISTERED_TTL_MS);
    return undefined;
  }
}

/**
 * Inserts a checked seal. A certificate serves one seal only, even after that seal is revoked:
 * `seal_certificates` holds one row per certificate (its primary key), so of two registrations
 * of one certificate racing, whatever the key storage, only the first commits.
 */
async function insertSeal(tx: Db, { record, certTbsSha256 }: PreparedSeal): Promise<SealRecord> {
  await identifyCertificates(tx);
  const holder = await tx.get<{ id: string; status: string }>(
    'SELECT s.id, s.status FROM seal_certificates c JOIN seals s ON s.id = c.seal_id WHERE c.cert_tbs_sha256 = ?',
    [certTbsSha256],
  );
  if (holder) {
    throw new SealInputError(`this certificate is already registered as the seal "${holder.id}"${holder.status === 'revoked' ? ' (revoked)' : ''}: one certificate, one seal`, 'certificate');
  }
  const inserted = await tx.run(
    `INSERT INTO seals (id, org_name, org_uscc, seal_type, name, diameter_mm, image_png, cert_chain_pem, key_ref, not_before, not_after, status, created_at, cert_tbs_sha256)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    [
      record.id,
      record.orgName,
      record.orgUscc,
      record.sealType,
      record.name,
      record.diameterMm,
      record.imagePng,
      JSON.stringify(record.chainPem),
      JSON.stringify(record.keyRef),
      record.notBefore,
      record.notAfter,
      record.status,
      record.createdAt,
      certTbsSha256,
    ],
  );
  if (inserted.changes === 0) throw new SealInputError(`a seal with id ${record.id} exists already`, 'id');
  if (record.sesSeal) await tx.run('INSERT INTO national_seals (seal_id, ses_seal) VALUES (?, ?)', [record.id, record.sesSeal]);
  const claimed = await tx.run('INSERT INTO seal_certificates (cert_tbs_sha256, seal_id) VALUES (?, ?) ON CONFLICT (cert_tbs_sha256) DO NOTHING', [certTbsSha256, record.id]);
  if (claimed.changes === 0) {
    // Another registration of this certificate committed first (the insert waited for it).
    const holder = await tx.get<{ seal_id: string }>('SELECT seal_id FROM seal_certificates WHERE cert_tbs_sha256 = ?', [certTbsSha256]);
    throw new SealInputError(`this certificate is already registered as the seal "${holder?.seal_id ?? 'another seal'}": one certificate, one seal`, 'certificate');
  }
  return record;
}

/** The standing of each of `ids` that exists, in one read. */
async function readStandings(db: Db, ids: readonly string[]): Promise<Map<string, SealStanding>> {
  const standings = new Map<string, SealStanding>();
  if (ids.length === 0) return standings;
  const rows = await db.all<{ id: string; status: string; not_before: string; not_after: string }>(
    `SELECT id, status, not_before, not_after FROM seals WHERE id IN (${ids.map(() => '?').join(', ')})`,
    [...ids],
  );
  for (const row of rows) standings.set(row.id, { id: row.id, status: row.status as SealStatus, notBefore: row.not_before, notAfter: row.not_after });
  return standings;
}

/** Revokes every active registration of a certificate; returns their ids. */
async function revokeRegistrations(tx: Db, certTbsSha256: string, revokedAt: string, reason: number): Promise<string[]> {
  const active = await tx.all<{ id: string }>("SELECT id FROM seals WHERE cert_tbs_sha256 = ? AND status <> 'revoked' ORDER BY created_at, id", [certTbsSha256]);
  if (active.length === 0) return [];
  await tx.run("UPDATE seals SET status = 'revoked', revoked_at = ?, revocation_reason = ? WHERE cert_tbs_sha256 = ? AND status <> 'revoked'", [revokedAt, reason, certTbsSha256]);
  return active.map((r) => r.id);
}

/**
 * Gives seals registered before schema 11 their certificate's hash and, to the first seal of
 * each certificate, its row in `seal_certificates`; then revokes the remaining registrations of
 * certificates already revoked under another seal, with that first revocation's time and reason.
 * Does nothing once every seal has its hash. Returns the seals it revoked.
 */
async function identifyCertificates(tx: Db): Promise<string[]> {
  const unidentified = await tx.all<{ id: string; cert_chain_pem: string }>('SELECT id, cert_chain_pem FROM seals WHERE cert_tbs_sha256 IS NULL ORDER BY created_at, id');
  if (unidentified.length === 0) return [];
  for (const row of unidentified) {
    const leaf = pemToDer((JSON.parse(row.cert_chain_pem) as string[])[0]!);
    let hash: string;
    try {
      hash = certificateTbsSha256(leaf);
    } catch {
      // accepted by an earlier version but not readable now: still one identity per certificate
      hash = `der:${createHash('sha256').update(leaf).digest('hex')}`;
    }
    await tx.run('UPDATE seals SET cert_tbs_sha256 = ? WHERE id = ?', [hash, row.id]);
    await tx.run('INSERT INTO seal_certificates (cert_tbs_sha256, seal_id) VALUES (?, ?) ON CONFLICT (cert_tbs_sha256) DO NOTHING', [hash, row.id]);
  }
  const firstRevocations = await tx.all<{ cert_tbs_sha256: string; revoked_at: string; revocation_reason: number | null }>(
    "SELECT cert_tbs_sha256, revoked_at, revocation_reason FROM seals WHERE status = 'revoked' AND revoked_at IS NOT NULL ORDER BY revoked_at",
  );
  const revoked: string[] = [];
  const seen = new Set<string>();
  for (const r of firstRevocations) {
    if (seen.has(r.cert_tbs_sha256)) continue;
    seen.add(r.cert_tbs_sha256);
    revoked.push(...(await revokeRegistrations(tx, r.cert_tbs_sha256, r.revoked_at, r.revocation_reason ?? 0)));
  }
  return revoked;
}
