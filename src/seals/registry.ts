import { NAME_OID, subjectAttributes } from '../pki/cert-subject.js';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isValidUscc } from '../codes/check-characters.js';
import { prepareImage, type PreparedImage } from '../pdf/image.js';
import { certificatePolicyOids, readCertFields } from '../pki/cert-fields.js';
import { PadesCmsBuilder } from '../pki/cms-signer.js';
import { loadPkcs12Signer } from '../pki/key-object-signer.js';
import { signerMatchesCertificate } from '../pki/key-match.js';
import { HsmError } from '../pki/pkcs11/errors.js';
import { describeKey, describeToken, Pkcs11KeyRefSchema, type Pkcs11KeyRef } from '../pki/pkcs11/key-ref.js';
import { Pkcs11Signer } from '../pki/pkcs11/token-signer.js';
import { derToPem, pemToDer } from '../pki/pem.js';
import { readPkcs12, writePkcs12 } from '../pki/pfx.js';
import type { Db } from '../store/db.js';
import type { Signer } from '../pki/signer.js';
import type { SealMaterial } from '../signing/pades.js';
import { decodePng, PngError } from './png.js';
import { renderSealPng, SEAL_DIAMETER_MM, SEAL_PURPOSE, SEAL_TYPES, type SealType } from './image.js';
import { sealTypesAllowed, type SealTypePolicies } from './seal-type-policies.js';
import { SealInputError, SealTypeNotAllowedError } from './errors.js';

export type SealStatus = 'active' | 'revoked';

/**
 * Where a seal's private key lives: a PKCS#12 keystore under the service's keystore password,
 * in the database (shared by every instance) or, for data dirs from before that, in a file; or
 * a key in a PKCS#11 token, which never leaves it.
 */
export type KeyRef = { kind: 'pkcs12'; file: string } | { kind: 'pkcs12'; stored: 'database' } | Pkcs11KeyRef;

export interface SealRecord {
  id: string;
  orgName: string;
  orgUscc: string;
  sealType: SealType;
  /** The seal's name as engraved: the organisation name plus the purpose for special seals. */
  name: string;
  diameterMm: number;
  imagePng: Buffer;
  /** PEM certificates, leaf first. */
  chainPem: string[];
  keyRef: KeyRef;
  notBefore: string;
  notAfter: string;
  status: SealStatus;
  createdAt: string;
}


/**
 * What identifies a certificate here: the SHA-256 of its signed part (tbsCertificate, as sent).
 * Every copy of one certificate that still verifies has the same signed part, however its outer
 * structure is encoded, so a re-encoded copy cannot pass for another certificate.
 */
export function certificateTbsSha256(certDer: Buffer): string {
  return createHash('sha256').update(readCertFields(certDer).tbs).digest('hex');
}

export interface NewSeal {
  id?: string;
  orgName: string;
  orgUscc: string;
  sealType: SealType;
  diameterMm?: number;
  /** A PNG with transparency; when absent the standard seal image is drawn. */
  imagePng?: Buffer;
  chainDer: Buffer[];
  keyRef: KeyRef;
}

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
}

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
  };
}

export function sealName(orgName: string, sealType: SealType): string {
  return sealType === 'official' ? orgName : `${orgName}${SEAL_PURPOSE[sealType]}`;
}

/**
 * The seal registry: records in the database, keys in PKCS#12 keystores under the data
 * directory, and a per-process cache of what signing needs (key, CMS pieces, prepared image).
 */
const UNREGISTERED_TTL_MS = 5_000;

export class SealRegistry {
  private readonly materials = new Map<string, Promise<SealMaterial>>();
  private readonly sealsByCertificate = new Map<string, { id: string; name: string }>();
  /** Certificates found in no registration, and until when that answer is used (a few seconds). */
  private readonly unregistered = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly keystorePassword: string,
    /** Which seal types a certificate may serve, by its certificate policies. */
    private readonly sealTypePolicies: SealTypePolicies,
  ) {}

  async list(): Promise<SealRecord[]> {
    const rows = await this.db.all<SealRow>('SELECT * FROM seals ORDER BY created_at, id');
    return rows.map(fromRow);
  }

  async get(id: string): Promise<SealRecord | undefined> {
    const row = await this.db.get<SealRow>('SELECT * FROM seals WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  async create(input: NewSeal): Promise<SealRecord> {
    const prepared = this.prepare(input);
    const record = await this.db.transaction((tx) => insertSeal(tx, prepared));
    this.unregistered.clear(); // registered here: found at once
    return record;
  }

  /** Checks a new seal against its certificate and draws its image: everything but the database. */
  private prepare(input: NewSeal): PreparedSeal {
    const id = input.id ?? randomUUID();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) throw new SealInputError('seal id: 1-64 letters, digits, _ . -', 'id');
    if (!input.orgName.trim() || input.orgName.length > 60) throw new SealInputError('organisation name: 1-60 characters', 'orgName');
    if (!isValidUscc(input.orgUscc)) throw new SealInputError('not a valid unified social credit code (check character)', 'orgUscc');
    if (!SEAL_TYPES.includes(input.sealType)) throw new SealInputError(`seal type must be one of ${SEAL_TYPES.join(', ')}`, 'sealType');
    const diameterMm = input.diameterMm ?? SEAL_DIAMETER_MM[input.sealType];
    if (!(diameterMm >= 20 && diameterMm <= 60)) throw new SealInputError('diameter must be 20 to 60 mm', 'diameterMm');
    const leaf = input.chainDer[0];
    if (!leaf) throw new SealInputError('a certificate chain is required', 'certificate');
    let certificate: X509Certificate;
    let certTbsSha256: string;
    try {
      certificate = new X509Certificate(leaf);
      certTbsSha256 = certificateTbsSha256(leaf);
    } catch {
      throw new SealInputError('the seal certificate cannot be parsed', 'certificate');
    }
    this.assertCertificateNamesOrganisation(leaf, input.orgName, input.orgUscc);
    this.assertPoliciesAllowSealType(leaf, input.sealType);
    const name = sealName(input.orgName, input.sealType);
    let imagePng = input.imagePng;
    if (imagePng) {
      try {
        const decoded = decodePng(imagePng);
        if (!decoded.alpha) throw new SealInputError('the seal image must have a transparent background', 'image');
        if (decoded.width < 64 || decoded.height < 64) throw new SealInputError('the seal image must be at least 64x64 pixels', 'image');
      } catch (err) {
        if (err instanceof PngError) throw new SealInputError(`seal image: ${err.message}`, 'image');
        throw err;
      }
    } else {
      imagePng = renderSealPng({ orgName: input.orgName, purpose: SEAL_PURPOSE[input.sealType], diameterMm });
    }
    const record: SealRecord = {
      id,
      orgName: input.orgName,
      orgUscc: input.orgUscc,
      sealType: input.sealType,
      name,
      diameterMm,
      imagePng,
      chainPem: input.chainDer.map(derToPem),
      keyRef: input.keyRef,
      notBefore: new Date(certificate.validFrom).toISOString(),
      notAfter: new Date(certificate.validTo).toISOString(),
      status: 'active',
      createdAt: new Date().toISOString(),
    };
    return { record, certTbsSha256 };
  }

  /**
   * Registers a seal whose certificate and key arrive as a PKCS#12 file: the key is re-wrapped
   * under this service's keystore password, so the uploader's password is not kept.
   */
  async importPkcs12(input: Omit<NewSeal, 'chainDer' | 'keyRef'> & { pkcs12: Buffer; password: string }): Promise<SealRecord> {
    const { privateKey, chainDer } = readPkcs12(input.pkcs12, input.password);
    const id = input.id ?? randomUUID();
    const prepared = this.prepare({ ...input, id, chainDer, keyRef: { kind: 'pkcs12', stored: 'database' } });
    const keystore = writePkcs12({ privateKey, chainDer, password: this.keystorePassword, friendlyName: id });
    const record = await this.db.transaction(async (tx) => {
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
    await tokenSignerFor(parsed.data, leaf);
    return this.create({ ...input, keyRef: parsed.data });
  }

  /**
   * Revokes a seal and, in the same transaction, every other registration of its certificate
   * (data from versions that allowed a certificate twice): none of them can be applied any
   * more, and the certificate appears on the CRL the development CA publishes. `reason` is an
   * RFC 5280 CRLReason code. Returns the seals this revoked, empty when none was active.
   */
  async revoke(id: string, reason = 0, at = new Date()): Promise<string[]> {
    const revoked = await this.db.transaction(async (tx) => {
      await identifyCertificates(tx);
      const seal = await tx.get<{ cert_tbs_sha256: string }>('SELECT cert_tbs_sha256 FROM seals WHERE id = ?', [id]);
      if (!seal) return [];
      return revokeRegistrations(tx, seal.cert_tbs_sha256, at.toISOString(), reason);
    });
    for (const sealId of [id, ...revoked]) this.materials.delete(sealId);
    return revoked;
  }

  /**
   * Brings registrations from before certificates were identified (schema 11) in line: each gets
   * its certificate's hash, and a certificate revoked under one seal is revoked under all. Run
   * at start, so an old copy of a revoked certificate stops sealing at once. Returns the seals
   * this revoked.
   */
  async reconcileCertificates(): Promise<string[]> {
    const revoked = await this.db.transaction((tx) => identifyCertificates(tx));
    for (const sealId of revoked) this.materials.delete(sealId);
    return revoked;
  }

  /** Certificates of revoked seals, for the CRL: each once, with its first revocation. */
  async revokedCertificates(): Promise<Array<{ certDer: Buffer; revokedAt: Date; reason: number }>> {
    const rows = await this.db.all<{ cert_chain_pem: string; revoked_at: string; revocation_reason: number | null }>(
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
   * A seal speaks for the organisation its certificate names: the organisation (O) must be the
   * seal's organisation, and its unified social credit code (organizationIdentifier, possibly
   * with an ETSI semantics prefix such as NTRCN-, or serialNumber) must be the seal's USCC.
   * Otherwise a red seal could read one authority's name over another's signature.
   */
  private assertCertificateNamesOrganisation(leafDer: Buffer, orgName: string, orgUscc: string): void {
    let subject: Map<string, string[]>;
    try {
      subject = subjectAttributes(leafDer);
    } catch {
      throw new SealInputError('the seal certificate cannot be parsed', 'certificate');
    }
    const organisations = subject.get(NAME_OID.organization) ?? [];
    if (!organisations.includes(orgName)) {
      throw new SealInputError(`the certificate is issued to ${organisations.length ? organisations.map((o) => `"${o}"`).join(', ') : 'no organisation'}, not to "${orgName}"`, 'orgName');
    }
    const codes = [...(subject.get(NAME_OID.organizationIdentifier) ?? []), ...(subject.get(NAME_OID.serialNumber) ?? [])].map((c) => c.replace(/^[A-Z]{3}[A-Z]{2}-/, ''));
    if (!codes.includes(orgUscc)) {
      throw new SealInputError(`the certificate names ${codes.length ? `the code ${codes.join(', ')}` : 'no unified social credit code'}, not ${orgUscc}`, 'orgUscc');
    }
  }

  /** The CA says what a certificate is for: its policies, through the configured mapping, must allow the seal type. */
  private assertPoliciesAllowSealType(leafDer: Buffer, sealType: SealType): void {
    let policies: string[] | null;
    try {
      policies = certificatePolicyOids(readCertFields(leafDer));
    } catch {
      throw new SealInputError("the seal certificate's policies cannot be read", 'certificate');
    }
    const allowed = sealTypesAllowed(this.sealTypePolicies, policies);
    if (!allowed.includes(sealType)) throw new SealTypeNotAllowedError(sealType, policies, allowed);
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
    const rows = await this.db.all<{ id: string; name: string; cert_chain_pem: string }>('SELECT id, name, cert_chain_pem FROM seals ORDER BY created_at, id');
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

  /** Signing material for a seal, loaded once per process. */
  material(record: SealRecord): Promise<SealMaterial> {
    let material = this.materials.get(record.id);
    if (!material) {
      material = this.loadMaterial(record);
      this.materials.set(record.id, material);
      material.catch(() => this.materials.delete(record.id));
    }
    return material;
  }

  private async keystore(record: SealRecord & { keyRef: { kind: 'pkcs12' } }): Promise<Buffer> {
    if ('file' in record.keyRef) return readFileSync(path.resolve(this.dataDir, record.keyRef.file));
    const row = await this.db.get<{ pkcs12: Buffer }>('SELECT pkcs12 FROM seal_keystores WHERE seal_id = ?', [record.id]);
    if (!row) throw new Error(`the keystore of seal ${record.id} is missing from the database`);
    return row.pkcs12;
  }

  private async signer(record: SealRecord, registeredChain: Buffer[]): Promise<Signer> {
    const { keyRef } = record;
    if (keyRef.kind === 'pkcs11') return tokenSignerFor(keyRef, registeredChain[0]!);
    const keystore = await this.keystore({ ...record, keyRef });
    const { signer, chainDer } = loadPkcs12Signer(keystore, this.keystorePassword);
    if (!chainDer[0]?.equals(registeredChain[0]!)) throw new Error(`keystore of seal ${record.id} holds another certificate`);
    return signer;
  }

  private async loadMaterial(record: SealRecord): Promise<SealMaterial> {
    const registeredChain = record.chainPem.map(pemToDer);
    const signer = await this.signer(record, registeredChain);
    const decoded = decodePng(record.imagePng);
    const image: PreparedImage = prepareImage(decoded);
    const checkKey = signer.checkAvailable?.bind(signer);
    return { cms: new PadesCmsBuilder(registeredChain, signer), image, signerName: record.name, ...(checkKey ? { checkKey } : {}) };
  }
}

/** Opens a token key and checks that it is the key of the seal's certificate. */
async function tokenSignerFor(keyRef: Pkcs11KeyRef, certDer: Buffer): Promise<Signer> {
  const signer = await Pkcs11Signer.open(keyRef);
  if (!(await signerMatchesCertificate(signer, certDer))) {
    throw new HsmError('key_mismatch', `the key ${describeKey(keyRef.key)} on token ${describeToken(keyRef.token)} is not the key of the seal's certificate`);
  }
  return signer;
}

interface PreparedSeal {
  record: SealRecord;
  certTbsSha256: string;
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
  const claimed = await tx.run('INSERT INTO seal_certificates (cert_tbs_sha256, seal_id) VALUES (?, ?) ON CONFLICT (cert_tbs_sha256) DO NOTHING', [certTbsSha256, record.id]);
  if (claimed.changes === 0) {
    // Another registration of this certificate committed first (the insert waited for it).
    const holder = await tx.get<{ seal_id: string }>('SELECT seal_id FROM seal_certificates WHERE cert_tbs_sha256 = ?', [certTbsSha256]);
    throw new SealInputError(`this certificate is already registered as the seal "${holder?.seal_id ?? 'another seal'}": one certificate, one seal`, 'certificate');
  }
  return record;
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
