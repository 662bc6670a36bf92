import type { AuditLog } from '../audit/log.js';
import type { PdfLimits } from '../pdf/document.js';
import type { PreparedImage } from '../pdf/image.js';
import type { SealJobRunner } from '../runtime/inline-sealing.js';
import type { SealMaterials } from '../seals/materials.js';
import type { SealRepository } from '../seals/repository.js';
import type { SealRecord, SealStanding } from '../seals/seal-record.js';
import type { PadesLevel } from '../signing/levels.js';
import type { PlacementRequest } from '../signing/placement.js';
import type { Timestamper } from '../pki/timestamper.js';
import { pemToDer } from '../pki/pem.js';
import { parseSesSeal } from '../pki/ses/ses-parse.js';
import { SesSignatureBuilder } from '../signing/ses-container.js';
import { KeyObjectSigner } from '../pki/key-object-signer.js';
import type { Signer } from '../pki/signer.js';
import type { LocalSigning } from '../runtime/worker-protocol.js';
import { SealUnavailableError } from './errors.js';
import { assertAllowed } from './seal-standing.js';
import { sealingAuthorityGuard, sealingSubject } from './sealing-authority.js';

/**
 * Applying a seal, whoever asks: the sealing route, licence issuance, a CLI. The seal is looked
 * up and checked (exists, allowed for the caller, active, certificate valid now), the document
 * is prepared and hashed in a PDF worker thread, and the key signs here. Authority is read
 * again in the step that signs and once more after, so a seal revoked at any point before the
 * answer leaves nothing signed with it behind: for a client's request, that last read, of the
 * client as well as the seal, is made in the transaction that writes the sealing's audit entry
 * (`sealing-authority.ts`).
 */

export interface SealRequest {
  sealId: string;
  /** The seals the caller may use; absent when the service seals its own documents (licences). */
  allowedSealIds?: readonly string[];
  pdf: Buffer;
  placement: PlacementRequest;
  level: PadesLevel;
  reason?: string;
  location?: string;
  docMdp?: 1 | 2 | 3;
  /** `ses`: a GB/T 38540 SES_Signature, for a seal registered with a national e-seal; CMS otherwise. */
  format?: 'cms' | 'ses';
  /**
   * The id of the client who asked: the audit entry's actor, whose authority is read once more
   * when the entry is written. Without it the caller records the sealing itself (in its own
   * transaction).
   */
  actor?: string;
  /** The seal's standing as the caller read it (after the document arrived), and when (`Date.now()`): not read again here. */
  checked?: { standing: SealStanding; at: number };
}

export interface SealOutcome {
  seal: SealRecord;
  /** The sealed file in order: for B-B and B-T the original bytes and the update after them. */
  parts: Uint8Array[];
  length: number;
  fieldName: string;
  documentSha256: string;
}

export interface SealingServiceDeps {
  seals: SealRepository;
  materials: SealMaterials;
  /** Runs the job: on the HTTP thread when it is small, else in a PDF worker thread (`runtime/inline-sealing.ts`). */
  jobs: SealJobRunner;
  pdfLimits: PdfLimits;
  audit: AuditLog;
  /** Whether levels B-T and up (a TSA), and B-LT and up (revocation data), are available. */
  timestamping: boolean;
  evidence: boolean;
  /** The TSA, for the time stamps of detached national-seal signatures. */
  timestamper?: Timestamper;
  /**
   * When the key signs, the seal's standing is read again unless the last read is younger than
   * this (SEAL_STANDING_FRESH_MS, default 50): a job that waited for a PDF thread reads again, one
   * that went straight through does not pay a second read within a millisecond of the first. The
   * read that decides whether the result is answered is made after signing in any case.
   */
  standingFreshMs?: number;
}

const DEFAULT_STANDING_FRESH_MS = 50;

/** A detached GB/T 38540 signature over the SM3 hash of a document in any format (OFD, XML, ...). */
export interface HashSigningRequest {
  sealId: string;
  allowedSealIds: readonly string[];
  /** The id of the client who asked, as for `SealRequest.actor`. */
  actor: string;
  /** SM3 of the document, 32 bytes. */
  sm3: Buffer;
  /** What the signer says of the document (GB/T 38540 propertyInfo): printable ASCII. */
  propertyInfo: string;
  /** With a time stamp over the signature value (needs a TSA). */
  timestamp: boolean;
}

/** National e-seals' validity periods, by seal, read once per distinct seal DER. */
const nationalSealPeriods = new Map<string, { der: Buffer; validFrom: Date; validTo: Date }>();

/** A seal's national e-seal, refused when it has none or when it is outside its own validity period now. */
function usableNationalSeal(seal: SealRecord, now = new Date()): Buffer {
  if (!seal.sesSeal) throw new SealUnavailableError('seal-not-national', `seal "${seal.id}" was registered without a national e-seal (GB/T 38540 SESeal), so it cannot make GB/T 38540 signatures`);
  let period = nationalSealPeriods.get(seal.id);
  if (!period || !period.der.equals(seal.sesSeal)) {
    const { validFrom, validTo } = parseSesSeal(seal.sesSeal).info;
    period = { der: seal.sesSeal, validFrom, validTo };
    nationalSealPeriods.set(seal.id, period);
  }
  if (now < period.validFrom || now > period.validTo) {
    throw new SealUnavailableError('seal-not-active', `the national e-seal of seal "${seal.id}" is valid from ${period.validFrom.toISOString()} to ${period.validTo.toISOString()}`);
  }
  return seal.sesSeal;
}

/** A key per prepared image object: a seal's material (and so its image) is loaded once per process. */
const imageKeys = new WeakMap<PreparedImage, string>();
let nextImageKey = 1;
function imageKeyOf(image: PreparedImage): string {
  let key = imageKeys.get(image);
  if (!key) imageKeys.set(image, (key = `image-${nextImageKey++}`));
  return key;
}

/** A key per signer held in this process, so a PDF thread is sent each key once. */
const localKeyIds = new WeakMap<KeyObjectSigner, string>();
let nextLocalKeyId = 1;

/**
 * For a key held in this process (a PKCS#12 keystore's RSA or EC key), the PDF thread signs
 * itself, within the time the standing read just made counts as fresh. Token keys and SM2 keys
 * always sign here.
 */
function localSigning(signer: Signer, freshUntil: number): LocalSigning | undefined {
  if (!(signer instanceof KeyObjectSigner) || freshUntil <= Date.now()) return undefined;
  let keyId = localKeyIds.get(signer);
  if (!keyId) localKeyIds.set(signer, (keyId = `key-${nextLocalKeyId++}`));
  return { keyId, key: signer.keyObject, until: freshUntil };
}

const MAX_RECORDS_KEPT = 1_000;

export class SealingService {
  private readonly standingFreshMs: number;

  constructor(private readonly deps: SealingServiceDeps) {
    this.standingFreshMs = deps.standingFreshMs ?? DEFAULT_STANDING_FRESH_MS;
  }

  /**
   * Seal records by id. A record never changes but for its status (revocation), which is read
   * from the database on every use, so the rest (image, chain) is read once. Records with a
   * national e-seal are read each time, so an SESeal replaced in the database (renewed by its
   * maker) takes effect at once.
   */
  private readonly records = new Map<string, SealRecord>();

  /** The seal as the database has it now, usable and allowed for the caller, or why not. */
  async usableSeal(sealId: string, allowedSealIds?: readonly string[], checked?: SealStanding): Promise<SealRecord> {
    const standing = checked ?? (await this.deps.seals.standing(sealId));
    assertAllowed(sealId, standing, allowedSealIds);
    let record = this.records.get(sealId);
    if (!record) {
      record = await this.deps.seals.get(sealId);
      if (!record) throw new SealUnavailableError('unknown-seal', `there is no seal "${sealId}"`);
      if (record.sesSeal) return { ...record, status: standing.status };
      if (this.records.size >= MAX_RECORDS_KEPT) this.records.delete(this.records.keys().next().value!);
      this.records.set(sealId, record);
    }
    return { ...record, status: standing.status };
  }

  /**
   * The same judgement from the seal's standing alone (status and validity, not its image and
   * keys): for the checks repeated before the body arrives, while the key signs and after.
   */
  async assertSealUsable(sealId: string, allowedSealIds?: readonly string[]): Promise<void> {
    assertAllowed(sealId, await this.deps.seals.standing(sealId), allowedSealIds);
  }

  async seal(request: SealRequest): Promise<SealOutcome> {
    let standingReadAt = request.checked?.at ?? Date.now();
    const seal = await this.usableSeal(request.sealId, request.allowedSealIds, request.checked?.standing);
    const format = request.format ?? 'cms';
    const sesSeal = format === 'ses' ? usableNationalSeal(seal) : undefined;
    const material = await this.deps.materials.material(seal);
    const sealed = await this.deps.jobs.seal(
      {
        kind: 'seal',
        bytes: request.pdf,
        placement: request.placement,
        level: request.level,
        reason: request.reason,
        location: request.location,
        docMdp: request.docMdp,
        seal: { id: seal.id, chainDer: [...material.cms.chainDer], keyInfo: material.cms.signer.key, imageKey: imageKeyOf(material.image), image: material.image, signerName: material.signerName, diameterMm: seal.diameterMm, ...(sesSeal ? { sesSeal } : {}) },
        format,
        localSigning: localSigning(material.cms.signer, standingReadAt + this.standingFreshMs),
        timestamping: this.deps.timestamping,
        evidence: this.deps.evidence,
        pdfLimits: this.deps.pdfLimits,
      },
      async (data, digest) => {
        if (Date.now() - standingReadAt >= this.standingFreshMs) {
          await this.assertSealUsable(request.sealId, request.allowedSealIds);
          standingReadAt = Date.now();
        }
        return material.cms.signer.sign(data, digest);
      },
    );
    const parts: Uint8Array[] = sealed.appended ? [request.pdf, sealed.appended] : [sealed.pdf!];
    const length = parts.reduce((n, p) => n + p.length, 0);
    const { documentSha256 } = sealed;
    if (request.actor) {
      // Written only if the client may still use the seal, read in the same transaction: revoked or disabled while signing, nothing is returned.
      const entry = { actor: request.actor, action: 'seal' as const, subject: seal.id, documentSha256, details: { level: request.level, field: sealed.fieldName, ...(format === 'ses' ? { format } : {}) } };
      await this.deps.audit.append(entry, { onlyIf: { guard: sealingAuthorityGuard, subject: sealingSubject(request.actor, seal.id) } });
    } else {
      await this.assertSealUsable(request.sealId, request.allowedSealIds); // revoked while signing: nothing is returned
    }
    return { seal, parts, length, fieldName: sealed.fieldName, documentSha256 };
  }

  /** An SES_Signature over a given SM3 hash with the seal's national e-seal and key; authority as for `seal`. */
  async signHash(request: HashSigningRequest): Promise<Buffer> {
    const seal = await this.usableSeal(request.sealId, request.allowedSealIds);
    const sesSeal = usableNationalSeal(seal);
    const material = await this.deps.materials.material(seal);
    const signer = material.cms.signer;
    const builder = new SesSignatureBuilder(sesSeal, pemToDer(seal.chainPem[0]!), {
      key: signer.key,
      sign: async (data, digest) => {
        await this.assertSealUsable(request.sealId, request.allowedSealIds);
        return signer.sign(data, digest);
      },
    });
    const signature = await builder.sign(request.sm3, new Date(), request.propertyInfo, request.timestamp ? this.deps.timestamper : undefined);
    // Written only if the client may still use the seal, read in the same transaction: revoked or disabled while signing, nothing is returned.
    const entry = { actor: request.actor, action: 'ses.sign' as const, subject: seal.id, details: { sm3: request.sm3.toString('hex'), timestamp: request.timestamp } };
    await this.deps.audit.append(entry, { onlyIf: { guard: sealingAuthorityGuard, subject: sealingSubject(request.actor, seal.id) } });
    return signature;
  }
}
