import { createHash, createHmac } from 'node:crypto';
import { PdfDocument } from '../pdf/document.js';
import { renderLicensePdf } from '../render/license-pdf.js';
import type { SealRegistry } from '../seals/registry.js';
import { sealAtLevel } from '../signing/levels.js';
import type { Timestamper } from '../pki/timestamper.js';
import type { Db } from '../store/db.js';
import { buildLicenseIdentifier } from './identifier.js';
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
  fields: Record<string, unknown>;
  issuerName: string;
  issuerCode: string;
  sealId: string;
  issuedAt: string;
  validFrom: string | null;
  validUntil: string | null;
  status: 'valid' | 'revoked' | 'superseded';
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
  fields: string;
  issuer_name: string;
  issuer_code: string;
  seal_id: string;
  issued_at: string;
  valid_from: string | null;
  valid_until: string | null;
  status: string;
  check_code: string;
  sha256: string;
}

export interface LicenseServiceDeps {
  db: Db;
  seals: SealRegistry;
  types: Map<string, LicenseType>;
  baseUrl: string;
  /** Keys the check code in the QR URL, which cannot be derived from the identifier alone. */
  secret: string;
  timestamper?: Timestamper;
}

function addYears(date: string, years: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** Issues licenses and notices: validate, number, render, seal, record. */
export class LicenseService {
  constructor(private readonly deps: LicenseServiceDeps) {}

  checkCode(id: string): string {
    return createHmac('sha256', this.deps.secret).update(id).digest('base64url').slice(0, 10);
  }

  private toRecord(row: Row): LicenseRecord {
    const type = this.deps.types.get(row.type);
    return {
      id: row.id,
      type: row.type,
      name: type?.name ?? row.type,
      number: row.number,
      version: row.version,
      holderName: row.holder_name,
      holderCode: row.holder_code,
      fields: JSON.parse(row.fields) as Record<string, unknown>,
      issuerName: row.issuer_name,
      issuerCode: row.issuer_code,
      sealId: row.seal_id,
      issuedAt: row.issued_at,
      validFrom: row.valid_from,
      validUntil: row.valid_until,
      status: row.status as LicenseRecord['status'],
      sha256: row.sha256,
      verificationUrl: `${this.deps.baseUrl}/v/${encodeURIComponent(row.id)}?c=${row.check_code}`,
    };
  }

  async get(id: string): Promise<LicenseRecord | undefined> {
    const row = await this.deps.db.get<Row>('SELECT id, type, number, version, holder_name, holder_code, fields, issuer_name, issuer_code, seal_id, issued_at, valid_from, valid_until, status, check_code, sha256 FROM licenses WHERE id = ?', [id]);
    return row ? this.toRecord(row) : undefined;
  }

  async pdf(id: string): Promise<Buffer | undefined> {
    const row = await this.deps.db.get<{ pdf: Buffer }>('SELECT pdf FROM licenses WHERE id = ?', [id]);
    return row?.pdf;
  }

  async issue(typeCode: string, request: LicenseRequest, now = new Date()): Promise<LicenseRecord> {
    const type = this.deps.types.get(typeCode);
    if (!type) throw new LicenseValidationError([{ field: 'type', message: `unknown license type; see GET /v1/license-types` }]);
    const problems = validateLicenseRequest(type, request);
    if (problems.length) throw new LicenseValidationError(problems);
    const seal = await this.deps.seals.get(type.issuerSealId);
    if (!seal || seal.status !== 'active') throw new Error(`the issuing seal ${type.issuerSealId} of ${type.code} is not available`);
    const issuedOn = now.toISOString().slice(0, 10);
    const year = issuedOn.slice(0, 4);
    const version = '001';
    return this.deps.db.transaction(async (tx) => {
      const count = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM licenses WHERE type = ? AND serial LIKE ?', [type.code, `${year}%`]);
      const serial = `${year}${String((count?.n ?? 0) + 1).padStart(6, '0')}`;
      const id = buildLicenseIdentifier({ typeCode: type.typeCode, issuerCode: seal.orgUscc, serial, version });
      const number = `${type.typeCode.slice(-3)}${serial}`;
      const checkCode = this.checkCode(id);
      const fields = request.fields;
      const validFrom = type.validity.kind === 'field' ? String(fields[type.validity.from]) : type.validity.kind === 'years' ? issuedOn : null;
      const validUntil =
        type.validity.kind === 'field' ? ((fields[type.validity.until] as string | undefined) ?? null) : type.validity.kind === 'years' ? addYears(issuedOn, type.validity.years) : null;
      const rendered = await renderLicensePdf({
        type,
        identifier: id,
        number,
        holderName: String(request.holder.name),
        holderCode: String(request.holder.code),
        fields,
        issuerName: seal.orgName,
        issuedOn: `${year}年${Number(issuedOn.slice(5, 7))}月${Number(issuedOn.slice(8, 10))}日`,
        validFrom: validFrom ?? undefined,
        validUntil: validUntil ?? undefined,
        qrUrl: `${this.deps.baseUrl}/v/${encodeURIComponent(id)}?c=${checkCode}`,
      });
      const material = await this.deps.seals.material(seal);
      const sealed = await sealAtLevel(PdfDocument.load(rendered.pdf), material, {
        level: this.deps.timestamper ? 'B-T' : 'B-B',
        timestamper: this.deps.timestamper,
        placement: { kind: 'stamp', pageIndex: rendered.seal.pageIndex, centerX: rendered.seal.centerX, centerY: rendered.seal.centerY, size: (seal.diameterMm * 72) / 25.4 },
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
        fields: JSON.stringify(fields),
        issuer_name: seal.orgName,
        issuer_code: seal.orgUscc,
        seal_id: seal.id,
        issued_at: now.toISOString(),
        valid_from: validFrom,
        valid_until: validUntil,
        status: 'valid',
        check_code: checkCode,
        sha256: createHash('sha256').update(pdf).digest('hex'),
      };
      await tx.run(
        `INSERT INTO licenses (id, type, number, serial, version, holder_name, holder_code, fields, issuer_name, issuer_code, seal_id, issued_at, valid_from, valid_until, status, check_code, sha256, pdf)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [row.id, row.type, row.number, serial, row.version, row.holder_name, row.holder_code, row.fields, row.issuer_name, row.issuer_code, row.seal_id, row.issued_at, row.valid_from, row.valid_until, row.status, row.check_code, row.sha256, pdf],
      );
      return this.toRecord(row);
    });
  }
}
