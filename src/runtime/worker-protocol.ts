import { ProcessingTimeExceeded } from '../pdf/limits/deadline.js';
import { DecodeBudgetExceeded, ObjectBudgetExceeded, type WorkLimits } from '../pdf/limits/work-budget.js';
import type { PdfLimits } from '../pdf/document.js';
import { PdfError, type PdfErrorCode } from '../pdf/errors.js';
import type { KeyObject } from 'node:crypto';
import type { PreparedImage } from '../pdf/image.js';
import type { DigestName, SignerKeyInfo } from '../pki/signer.js';
import { LevelUnavailableError, LtvIncompleteError, NotSealableError, NothingToExtendError, PlacementError } from '../signing/errors.js';
import type { MissingEvidence } from '../signing/ltv-evidence.js';
import type { PadesLevel } from '../signing/levels.js';
import type { PlacementRequest } from '../signing/placement.js';
import type { ValidationPolicy } from '../validation/policy.js';
import type { RevocationEvidence } from '../contracts/revocation.js';

/**
 * The messages between the HTTP thread and the PDF worker threads. Everything crosses by
 * structured clone, so Buffers arrive as plain Uint8Arrays (see `asBuffer`) and errors as
 * `WireError`s that `errorFromWire` turns back into the classes the problem handler knows.
 */

/** What a worker is given once: the parts of the validation context that never change. */
export interface WorkerSetup {
  trustAnchors: Uint8Array[];
  intermediates: Uint8Array[];
  policy: ValidationPolicy;
}

export interface VerifyJob {
  kind: 'verify';
  bytes: Uint8Array;
  /** `json`: the thread answers the report serialised (a `SerialisedReport`), to be sent as it is. */
  answer?: 'report' | 'json';
  validationTime?: Date;
  offline: boolean;
  password?: string;
  pdfLimits: PdfLimits;
}

/**
 * Seal images a thread keeps. The pool and the thread both forget the oldest beyond this, in
 * the same order (the order the images were sent), so the pool knows what the thread has.
 */
export const IMAGES_KEPT_PER_THREAD = 64;

/** Seal keys a thread keeps for signing in the thread; forgotten oldest first, like images. */
export const KEYS_KEPT_PER_THREAD = 64;

/**
 * A key held in this process (read from a PKCS#12 keystore) that the thread may sign with itself
 * until `until` (epoch ms): the HTTP thread read the seal's standing just before, and a message
 * to it and back for the signature cost more than the signature. Past `until`, say after a long
 * document took its time, the thread asks the HTTP thread to sign, which reads the standing again.
 * The key travels to a thread once (`key`); later jobs name it by `keyId`.
 */
export interface LocalSigning {
  keyId: string;
  key?: KeyObject;
  until: number;
}

/** A seal to apply: the seal's public parts travel with the job; its key signs on the HTTP thread (`sign`), or, for a key held in this process and while the seal's standing is freshly read, in the thread (`localSigning`). */
export interface SealJob {
  kind: 'seal';
  bytes: Uint8Array;
  placement: PlacementRequest;
  level: PadesLevel;
  reason?: string;
  location?: string;
  docMdp?: 1 | 2 | 3;
  seal: {
    id: string;
    chainDer: Uint8Array[];
    keyInfo: SignerKeyInfo;
    /** Names the prepared image; the image itself travels only to a thread that has not had it yet. */
    imageKey: string;
    image?: PreparedImage;
    signerName: string;
    diameterMm: number;
    /** The seal's national e-seal (GB/T 38540 SESeal), sent with `format: 'ses'` jobs. */
    sesSeal?: Uint8Array;
  };
  /** `ses`: the signature is a GB/T 38540 SES_Signature embedding `seal.sesSeal`. */
  format: 'cms' | 'ses';
  /** Absent: the key signs on the HTTP thread (token keys, SM2 keys, and jobs that may wait). */
  localSigning?: LocalSigning;
  /** Whether the service has a TSA (levels B-T and up) and a source of revocation data (B-LT and up). */
  timestamping: boolean;
  evidence: boolean;
  pdfLimits: PdfLimits;
}

/** A validation report as JSON text, with what the HTTP thread counts without parsing it again. */
export interface SerialisedReport {
  json: string;
  indications: string[];
}

export interface SealJobResult {
  fieldName: string;
  /** SHA-256 of the whole sealed file, hashed here so the HTTP thread never hashes a large file. */
  documentSha256: string;
  /** B-B and B-T: what follows the original bytes (which stay with the HTTP thread). */
  appended?: Uint8Array;
  /** B-LT and B-LTA: the whole file. */
  pdf?: Uint8Array;
}

export interface ExtendJob {
  kind: 'extend';
  bytes: Uint8Array;
  level: 'B-LT' | 'B-LTA';
  strict: boolean;
  pdfLimits: PdfLimits;
}

export type PdfJob = VerifyJob | SealJob | ExtendJob;

/** A job with the limits it runs under: time from its start in the worker, and the work budget. */
export interface JobMessage {
  type: 'job';
  id: number;
  job: PdfJob;
  processingTimeMs: number;
  workLimits: WorkLimits;
}

/** What the worker may ask the HTTP thread, which holds the database, caches and network clients. */
export interface HostCalls {
  revocation(chain: Buffer[], at: Date, options: { embeddedCrls?: Buffer[]; embeddedOcsps?: Buffer[]; offline?: boolean }): Promise<RevocationEvidence>;
  lookupSeal(certDer: Buffer): Promise<{ id: string; name: string } | undefined>;
  /** The job's seal key signs (sealing jobs only). */
  sign(data: Buffer, digest: DigestName): Promise<Buffer>;
  timestamp(digest: Buffer, algorithm: 'sha256' | 'sha384' | 'sha512'): Promise<Buffer>;
  crlsFor(chain: Buffer[]): Promise<Buffer[]>;
  ocspsFor(chain: Buffer[]): Promise<Buffer[]>;
}

export type HostCallName = keyof HostCalls;

export interface CallMessage {
  type: 'call';
  callId: number;
  name: HostCallName;
  args: unknown[];
}

export interface ReplyMessage {
  type: 'reply';
  callId: number;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}

export interface DoneMessage {
  type: 'done';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}

export type ToWorker = JobMessage | ReplyMessage;
export type FromWorker = CallMessage | DoneMessage;

export interface WireError {
  name: string;
  message: string;
  code?: PdfErrorCode;
  limitMs?: number;
  limitBytes?: number;
  limitValues?: number;
  slug?: PlacementError['slug'];
  title?: string;
  reason?: NotSealableError['reason'];
  missing?: MissingEvidence[];
}

export function errorToWire(err: unknown): WireError {
  if (err instanceof ProcessingTimeExceeded) return { name: err.name, message: err.message, limitMs: err.limitMs };
  if (err instanceof DecodeBudgetExceeded) return { name: err.name, message: err.message, limitBytes: err.limitBytes };
  if (err instanceof ObjectBudgetExceeded) return { name: err.name, message: err.message, limitValues: err.limitValues };
  if (err instanceof PdfError) return { name: 'PdfError', message: err.message, code: err.code };
  if (err instanceof PlacementError) return { name: err.name, message: err.message, slug: err.slug, title: err.title };
  if (err instanceof NotSealableError) return { name: err.name, message: err.message, reason: err.reason };
  if (err instanceof LtvIncompleteError) return { name: err.name, message: err.message, missing: err.missing };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** The error as its own class again; anything that is not a known input problem stays a plain Error (a 500). */
export function errorFromWire(wire: WireError): Error {
  switch (wire.name) {
    case 'ProcessingTimeExceeded':
      return new ProcessingTimeExceeded(wire.limitMs ?? 0);
    case 'DecodeBudgetExceeded':
      return new DecodeBudgetExceeded(wire.limitBytes ?? 0);
    case 'ObjectBudgetExceeded':
      return new ObjectBudgetExceeded(wire.limitValues ?? 0);
    case 'PdfError':
      return new PdfError(wire.code ?? 'MALFORMED', wire.message);
    case 'PlacementError':
      return new PlacementError(wire.slug ?? 'invalid-placement', wire.title ?? 'The placement is not possible', wire.message);
    case 'NotSealableError':
      return new NotSealableError(wire.reason ?? 'needs-repair', wire.message);
    case 'LtvIncompleteError':
      return new LtvIncompleteError(wire.missing ?? []);
    case 'LevelUnavailableError':
      return new LevelUnavailableError(wire.message);
    case 'NothingToExtendError':
      return new NothingToExtendError(wire.message);
    default: {
      const err = new Error(wire.message);
      err.name = wire.name;
      return err;
    }
  }
}

/** A Buffer over the same memory as a Uint8Array that crossed a thread boundary. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Bytes to post to another thread, with what to transfer. A Buffer is often a view into a larger
 * block (a socket's read buffer, the 8 KiB pool): structured clone copies the whole block, so a
 * 1 KiB view can cost 200 KiB. So the bytes are copied once into a block of their own, which is
 * moved rather than cloned; the sender keeps its own.
 */
export function forPosting(bytes: Uint8Array): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { bytes: copy, transfer: [copy.buffer] };
}

/** `value` with every Uint8Array in it (in arrays and plain objects, at any depth) in a block of its own, and those blocks to transfer. */
export function postableValue<T>(value: T): { value: T; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const walk = (item: unknown): unknown => {
    if (item instanceof Uint8Array) {
      const posted = forPosting(item);
      transfer.push(...posted.transfer);
      return posted.bytes;
    }
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, walk(inner)]));
    }
    return item;
  };
  return { value: walk(value) as T, transfer };
}

/** `value` with every Uint8Array in it (in arrays and plain objects, at any depth) a Buffer again. */
export function reviveBuffers<T>(value: T): T {
  if (value instanceof Uint8Array) return asBuffer(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => reviveBuffers(item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, reviveBuffers(item)])) as T;
  }
  return value;
}
