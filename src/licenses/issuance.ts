import type { AuditLog } from '../audit/log.js';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { fontsFor } from '../render/font-set.js';
import { LayoutOverflowError, UnprintableTextError } from '../render/layout-errors.js';
import { renderLicensePdf, type RenderedLicense } from '../render/license-pdf.js';
import type { SealRepository } from '../seals/repository.js';
import type { SealingService } from '../sealing/sealing-service.js';
import type { Timestamper } from '../pki/timestamper.js';
import type { Db } from '../store/db.js';
import { isValidUscc } from '../codes/check-characters.js';
import { dateInZone, lastDayOfTerm } from '../calendar/dates.js';
import type { HolderCodeType } from './holder.js';
import { buildLicenseIdentifier, parseLicenseIdentifier } from './identifier.js';
import { allocateLicenseNumber } from './numbering.js';
import { makePresentationToken, presentationKey, PRESENTATION_TTL_SECONDS, readPresentationToken, type PresentationTokenReading } from './presentation.js';
import { replacementProblems, replacementTerm, type ReplacementChanges } from './replacement.js';
import { assertMayActFor, assertMayIssueWith, type IssuerScope } from './scope.js';
import type { LicenseType } from './types.js';
import { validateLicenseRequest, type FieldProblem, type LicenseRequest } from './validate.js';

export interface LicenseRecord {
  id: string;
  type: string;
  name: string;
  number: string;
  version: string;
  holderName: string;
  holderCode: string;
  /** GB/T 36903 持证主体代码类型: 001 unified social credit code, 111 citizen identity number. */
  holderCodeType: HolderCodeType;
  /** GB/T 36903 证照类型代码. */
  typeCode: string;
  fields: Record<string, unknown>;
  issuerName: string;
  issuerCode: string;
  sealId: string;
  /** The instant of issue (ISO 8601, UTC). */
  issuedAt: string;
  /** The date printed on the document: the calendar date of issue in the service's time zone. */
  issuedOn: string;
  validFrom: string | null;
  validUntil: string | null;
  /** `expired` and `not-yet-valid` are derived from the validity dates; the others are recorded. */
  status: 'valid' | 'not-yet-valid' | 'revoked' | 'superseded' | 'expired';
  revokedAt: string | null;
  revokeReason: string | null;
  supersededBy: string | null;
  /** The version this one replaced, and why (both null for a first issue). */
  replaces: string | null;
  replacementReason: string | null;
  sha256: string;
  verificationUrl: string;
}

export class LicenseValidationError extends Error {
  override name = 'LicenseValidationError';
  constructor(readonly problems: FieldProblem[]) {
    super(`${problems.length} field(s) are invalid`);
  }
}

interface Row {
  id: string;
  type: string;
  number: string;
  version: string;
  holder_name: string;
  holder_code: string;
  /** Null for licences issued before the code type was recorded. */
  holder_code_type: string | null;
  fields: string;
  issuer_name: string;
  issuer_code: string;
  seal_id: string;
  issued_at: string;
  /** Null for licences issued before the date of issue was recorded. */
  issued_on: string | null;
  valid_from: string | null;
  valid_until: string | null;
  status: string;
  check_code: string;
  sha256: string;
  revoked_at?: string | null;
  revoke_reason?: string | null;
  superseded_by?: string | null;
  replaces?: string | null;
  replace_reason?: string | null;
}

const COLUMNS = 'id, type, number, version, holder_name, holder_code, holder_code_type, fields, issuer_name, issuer_code, seal_id, issued_at, issued_on, valid_from, valid_until, status, check_code, sha256, revoked_at, revoke_reason, superseded_by, replaces, replace_reason';

export class LicenseStateError extends Error {
  override name = 'LicenseStateError';
}

export interface LicenseServiceDeps {
  db: Db;
  seals: SealRepository;
  /** Seals the rendered documents (the licence and its audit entry are recorded together here). */
  sealing: SealingService;
  types: Map<string, LicenseType>;
  baseUrl: string;
  /** Keys the check code in the QR URL, which cannot be derived from the identifier alone. */
  secret: string;
  timestamper?: Timestamper;
  /** Where issuance and replacement are recorded, in the same transaction as the licence. */
  audit?: AuditLog;
  /** IANA time zone whose calendar dates the documents carry (issue date, validity, serial year). */
  timeZone: string;
  /** The current time; tests set it to issue at a chosen instant. */
  clock?: () => Date;
}

/** Who issues or replaces, for the audit entry written with the licence. */
export interface IssuedBy {
  actor: string;
  action: 'license.issue' | 'license.replace';
  details?: Record<string, unknown>;
  /** The client's Idempotency-Key and a hash of its request: recorded with the licence. */
  idempotency?: { key: string; requestSha256: string };
  /** The authorities and seals the client may issue with; absent when the service itself acts. */
  scope?: IssuerScope;
}

/** The licence an earlier request with the same Idempotency-Key produced. */
export class IdempotentReplay extends Error {
  override name = 'IdempotentReplay';
  constructor(
    readonly licenseId: string,
    /** False when the key came with a different request: a client error. */
    readonly sameRequest: boolean,
  ) {
    super(sameRequest ? `this Idempotency-Key already produced licence ${licenseId}` : 'this Idempotency-Key was used for another request');
  }
}

/** One client's Idempotency-Key: held while it is checked and recorded. */
function idempotencyKeyLock(clientId: string, key: string): string {
  return `license-idempotency:${clientId}:${key}`;
}

/** A replacement's new version continues the licence it supersedes. */
interface Continuation {
  number: string;
  serial: string;
  version: string;
  supersedes: string;
  reason: string;
  /** The term carried over or newly given; undefined where the type's fields give it. */
  term: { validFrom: string | null; validUntil: string | null } | undefined;
  /** What is wrong with the replacement itself (reason, holder, term), reported with the request's problems. */
  problems: FieldProblem[];
}

/** The strings of a request, for choosing the fonts its characters are checked against. */
function requestTexts(request: LicenseRequest): string[] {
  const texts: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string') texts.push(value);
    else if (Array.isArray(value)) value.forEach(add);
  };
  add(request.holder?.name);
  add(request.holder?.code);
  Object.values(request.fields ?? {}).forEach(add);
  return texts;
}

/** Renders, turning what cannot be printed or laid out into a 422 naming the field. */
async function renderOrRefuse(content: Parameters<typeof renderLicensePdf>[0]): Promise<RenderedLicense> {
  try {
    return await renderLicensePdf(content);
  } catch (err) {
    if (err instanceof LayoutOverflowError || err instanceof UnprintableTextError) throw new LicenseValidationError([{ field: err.field, message: err.message }]);
    throw err;
  }
}

/** Issues licenses and notices: validate, number, render, seal, record. */
export class LicenseService {
  private readonly presentationKey: Buffer;

  constructor(private readonly deps: LicenseServiceDeps) {
    this.presentationKey = presentationKey(deps.secret);
  }

  /** A presentation code for licence `id`, valid for a few minutes, and the URL its QR code opens. */
  presentationCode(id: string, now = this.now()): { token: string; url: string; expiresAt: Date } {
    const expiresAt = new Date(now.getTime() + PRESENTATION_TTL_SECONDS * 1000);
    const token = makePresentationToken(this.presentationKey, id, expiresAt);
    return { token, url: `${this.deps.baseUrl}/v/presented/${token}`, expiresAt };
  }

  readPresentationCode(token: string, now = this.now()): PresentationTokenReading {
    return readPresentationToken(this.presentationKey, token, now);
  }

  get timeZone(): string {
    return this.deps.timeZone;
  }

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /** The calendar date of an instant where the issuing offices are. */
  dateOf(instant: Date): string {
    return dateInZone(instant, this.deps.timeZone);
  }

  checkCode(id: string): string {
    return createHmac('sha256', this.deps.secret).update(id).digest('base64url').slice(0, 10);
  }

  private toRecord(row: Row, today = this.dateOf(this.now())): LicenseRecord {
    const type = this.deps.types.get(row.type);
    const expired = row.status === 'valid' && row.valid_until !== null && row.valid_until < today;
    const notYetValid = row.status === 'valid' && row.valid_from !== null && row.valid_from > today;
    return {
      id: row.id,
      type: row.type,
      name: type?.name ?? row.type,
      number: row.number,
      version: row.version,
      holderName: row.holder_name,
      holderCode: row.holder_code,
      holderCodeType: (row.holder_code_type as HolderCodeType | null) ?? (isValidUscc(row.holder_code) ? '001' : '111'),
      typeCode: type?.typeCode ?? '',
      fields: JSON.parse(row.fields) as Record<string, unknown>,
      issuerName: row.issuer_name,
      issuerCode: row.issuer_code,
      sealId: row.seal_id,
      issuedAt: row.issued_at,
      issuedOn: row.issued_on ?? this.dateOf(new Date(row.issued_at)),
      validFrom: row.valid_from,
      validUntil: row.valid_until,
      status: expired ? 'expired' : notYetValid ? 'not-yet-valid' : (row.status as LicenseRecord['status']),
      revokedAt: row.revoked_at ?? null,
      revokeReason: row.revoke_reason ?? null,
      supersededBy: row.superseded_by ?? null,
      replaces: row.replaces ?? null,
      replacementReason: row.replace_reason ?? null,
      sha256: row.sha256,
      verificationUrl: `${this.deps.baseUrl}/v/${encodeURIComponent(row.id)}?c=${row.check_code}`,
    };
  }

  /** Throws IdempotentReplay when the client's key was used before. */
  async checkIdempotency(clientId: string, idempotency: { key: string; requestSha256: string }, db: Db = this.deps.db): Promise<void> {
    const earlier = await db.get<{ license_id: string; request_sha256: string }>('SELECT license_id, request_sha256 FROM license_idempotency WHERE client_id = ? AND idem_key = ?', [clientId, idempotency.key]);
    if (earlier) throw new IdempotentReplay(earlier.license_id, earlier.request_sha256 === idempotency.requestSha256);
  }

  async get(id: string): Promise<LicenseRecord | undefined> {
    const row = await this.deps.db.get<Row>(`SELECT ${COLUMNS} FROM licenses WHERE id = ?`, [id]);
    return row ? this.toRecord(row) : undefined;
  }

  /** The licence whose issued file (the sealed file as issued) has this SHA-256. */
  async findBySha256(sha256: string): Promise<LicenseRecord | undefined> {
    const row = await this.deps.db.get<Row>(`SELECT ${COLUMNS} FROM licenses WHERE sha256 = ?`, [sha256]);
    return row ? this.toRecord(row) : undefined;
  }

  /**
   * The version in force for a licence: the last one of its replacement chain (the licence itself
   * when nothing superseded it). Versions are three digits, so a chain longer than that is a
   * broken record, and the last version read is answered.
   */
  async currentVersion(id: string): Promise<LicenseRecord | undefined> {
    let record = await this.get(id);
    for (let hops = 0; record?.supersededBy && hops < 1000; hops++) {
      const next = await this.get(record.supersededBy);
      if (!next) break;
      record = next;
    }
    return record;
  }

  /** The definition of a licence type, if it is still defined. */
  typeOf(code: string): LicenseType | undefined {
    return this.deps.types.get(code);
  }

  /** A holder's licences of the given types, oldest first (recording the lookup is the caller's). */
  async findByHolder(holderCode: string, types: readonly string[]): Promise<LicenseRecord[]> {
    if (types.length === 0) return [];
    const rows = await this.deps.db.all<Row>(`SELECT ${COLUMNS} FROM licenses WHERE holder_code = ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY issued_at, id`, [holderCode, ...types]);
    return rows.map((row) => this.toRecord(row));
  }

  /** Whether `code` is the check code of the QR URL for `id`. */
  checkCodeMatches(id: string, code: string): boolean {
    const expected = Buffer.from(this.checkCode(id));
    const given = Buffer.from(code);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Revokes a valid licence; with a scope, only one of an authority the client acts for. */
  async revoke(id: string, reason: string, now = this.now(), scope?: IssuerScope): Promise<LicenseRecord> {
    if (scope) assertMayActFor(scope, id);
    const result = await this.deps.db.run("UPDATE licenses SET status = 'revoked', revoked_at = ?, revoke_reason = ? WHERE id = ? AND status = 'valid'", [now.toISOString(), reason, id]);
    const record = await this.get(id);
    if (!record) throw new LicenseStateError(`there is no license ${id}`);
    if (result.changes === 0) throw new LicenseStateError(`license ${id} is ${record.status} and cannot be revoked`);
    return record;
  }

  /**
   * Issues the next version of a license (same number and serial, version + 1) for the same
   * holder, with the old term unless a new one is given, and supersedes the old one.
   */
  async replace(id: string, changes: ReplacementChanges, now = this.now(), by?: IssuedBy): Promise<LicenseRecord> {
    if (by?.scope) assertMayActFor(by.scope, id);
    const old = await this.get(id);
    if (!old) throw new LicenseStateError(`there is no license ${id}`);
    if (old.status === 'revoked' || old.status === 'superseded') throw new LicenseStateError(`license ${id} is ${old.status} and cannot be replaced`);
    const type = this.deps.types.get(old.type);
    if (!type) throw new LicenseValidationError([{ field: 'type', message: `the license type ${old.type} is no longer defined` }]);
    const next = String(Number(old.version) + 1).padStart(3, '0');
    const request = { holder: changes.holder ?? { name: old.holderName, code: old.holderCode, codeType: old.holderCodeType }, fields: changes.fields ?? old.fields };
    return this.issue(
      old.type,
      request,
      now,
      {
        number: old.number,
        serial: parseLicenseIdentifier(old.id)!.serial,
        version: next,
        supersedes: old.id,
        reason: String(changes.reason),
        term: replacementTerm(type, old, changes),
        problems: replacementProblems(type, old, changes, this.dateOf(now)),
      },
      by,
    );
  }

  /** The term of a first issue: from the type's date fields, or years from the date of issue. */
  private termOf(type: LicenseType, fields: Record<string, unknown>, issuedOn: string): { validFrom: string | null; validUntil: string | null } {
    if (type.validity.kind === 'field') return { validFrom: String(fields[type.validity.from]), validUntil: (fields[type.validity.until] as string | undefined) ?? null };
    if (type.validity.kind === 'years') return { validFrom: issuedOn, validUntil: lastDayOfTerm(issuedOn, type.validity.years) };
    return { validFrom: null, validUntil: null };
  }

  async pdf(id: string): Promise<Buffer | undefined> {
    const row = await this.deps.db.get<{ pdf: Buffer }>('SELECT pdf FROM licenses WHERE id = ?', [id]);
    return row?.pdf;
  }

  async issue(typeCode: string, request: LicenseRequest, now = this.now(), continuing?: Continuation, by?: IssuedBy): Promise<LicenseRecord> {
    const type = this.deps.types.get(typeCode);
    if (!type) throw new LicenseValidationError([{ field: 'type', message: `unknown license type; see GET /v1/license-types` }]);
    const issuedOn = this.dateOf(now);
    const seal = await this.deps.seals.get(type.issuerSealId);
    // Who may issue this type is settled before what the request says is looked at.
    if (seal && by?.scope) assertMayIssueWith(by.scope, seal);
    const fonts = await fontsFor(requestTexts(request));
    const problems = [...(continuing?.problems ?? []), ...validateLicenseRequest(type, request, { today: issuedOn, canDraw: (cp) => fonts.canDraw(cp) })];
    if (problems.length) throw new LicenseValidationError(problems);
    if (!seal || seal.status !== 'active') throw new LicenseStateError(`the issuing seal ${type.issuerSealId} of ${type.code} is not available (missing or revoked)`);
    const version = continuing?.version ?? '001';
    const number = continuing?.number ?? (await allocateLicenseNumber(this.deps.db, type, seal.orgUscc, issuedOn, request.fields));
    // The identifier's serial is the printed number (0-9A-Z); a replacement keeps both.
    const serial = continuing?.serial ?? number;
    const id = buildLicenseIdentifier({ typeCode: type.typeCode, issuerCode: seal.orgUscc, serial, version });
    const checkCode = this.checkCode(id);
    const fields = request.fields;
    const term = continuing?.term ?? this.termOf(type, fields, issuedOn);
    const { validFrom, validUntil } = term;
    const rendered = await renderOrRefuse({
      type,
      identifier: id,
      number,
      holderName: String(request.holder.name),
      holderCode: String(request.holder.code),
      fields,
      holderCodeType: String(request.holder.codeType),
      issuerName: seal.orgName,
      issuerCode: seal.orgUscc,
      sealDiameterMm: seal.diameterMm,
      issuedOn,
      validFrom: validFrom ?? undefined,
      validUntil: validUntil ?? undefined,
      qrUrl: `${this.deps.baseUrl}/v/${encodeURIComponent(id)}?c=${checkCode}`,
    });
    const sealed = await this.deps.sealing.seal({
      sealId: seal.id,
      ...(by?.scope ? { allowedSealIds: by.scope.sealIds } : {}),
      pdf: rendered.pdf,
      level: this.deps.timestamper ? 'B-T' : 'B-B',
      placement: { mode: 'stamp', page: rendered.seal.pageIndex + 1, x: rendered.seal.centerX, y: rendered.seal.centerY, unit: 'pt' },
      reason: `${type.name}`,
    });
    const pdf = Buffer.concat(sealed.parts);
    const row: Row = {
      id,
      type: type.code,
      number,
      version,
      holder_name: String(request.holder.name),
      holder_code: String(request.holder.code),
      holder_code_type: String(request.holder.codeType),
      fields: JSON.stringify(fields),
      issuer_name: seal.orgName,
      issuer_code: seal.orgUscc,
      seal_id: seal.id,
      issued_at: now.toISOString(),
      issued_on: issuedOn,
      valid_from: validFrom,
      valid_until: validUntil,
      status: 'valid',
      check_code: checkCode,
      sha256: createHash('sha256').update(pdf).digest('hex'),
      replaces: continuing?.supersedes ?? null,
      replace_reason: continuing?.reason ?? null,
    };
    await this.deps.db.transaction(async (tx) => {
      // Checked again under the key's lock: of two requests racing with one key, one issues.
      if (by?.idempotency) {
        await tx.lock(idempotencyKeyLock(by.actor, by.idempotency.key));
        await this.checkIdempotency(by.actor, by.idempotency, tx);
      }
      if (continuing) {
        // Two replacements of one license race for the same next version: one wins.
        const superseded = await tx.run("UPDATE licenses SET status = 'superseded', superseded_by = ? WHERE id = ? AND status = 'valid'", [id, continuing.supersedes]);
        if (superseded.changes === 0) throw new LicenseStateError(`license ${continuing.supersedes} was revoked or replaced meanwhile`);
      }
      await tx.run(
        `INSERT INTO licenses (id, type, number, serial, version, holder_name, holder_code, holder_code_type, fields, issuer_name, issuer_code, seal_id, issued_at, issued_on, valid_from, valid_until, status, check_code, sha256, pdf, replaces, replace_reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [row.id, row.type, row.number, serial, row.version, row.holder_name, row.holder_code, row.holder_code_type, row.fields, row.issuer_name, row.issuer_code, row.seal_id, row.issued_at, row.issued_on, row.valid_from, row.valid_until, row.status, row.check_code, row.sha256, pdf, row.replaces ?? null, row.replace_reason ?? null],
      );
      if (by?.idempotency) {
        await tx.run('INSERT INTO license_idempotency (client_id, idem_key, request_sha256, license_id, created_at) VALUES (?, ?, ?, ?, ?)', [by.actor, by.idempotency.key, by.idempotency.requestSha256, row.id, now.toISOString()]);
      }
      // the licence exists exactly when its audit entry does; appended last, as it holds the
      // audit chain's lock until commit
      if (by && this.deps.audit) await this.deps.audit.appendIn(tx, { actor: by.actor, action: by.action, subject: row.id, documentSha256: row.sha256, ...(by.details ? { details: by.details } : {}) });
    });
    return this.toRecord(row);
  }
}
