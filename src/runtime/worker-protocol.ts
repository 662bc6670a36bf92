import { ProcessingTimeExceeded } from '../limits/deadline.js';
import { DecodeBudgetExceeded, ObjectBudgetExceeded, type WorkLimits } from '../limits/work-budget.js';
import type { PdfLimits } from '../pdf/document.js';
import { PdfError, type PdfErrorCode } from '../pdf/errors.js';
import type { ValidationPolicy } from '../validation/policy.js';
import type { RevocationEvidence } from '../validation/report.js';

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
  validationTime?: Date;
  offline: boolean;
  password?: string;
  pdfLimits: PdfLimits;
}

/** A job with the limits it runs under: time from its start in the worker, and the work budget. */
export interface JobMessage {
  type: 'job';
  id: number;
  job: VerifyJob;
  processingTimeMs: number;
  workLimits: WorkLimits;
}

/** What the worker may ask the HTTP thread, which holds the database, caches and network clients. */
export interface HostCalls {
  revocation(chain: Buffer[], at: Date, options: { embeddedCrls?: Buffer[]; embeddedOcsps?: Buffer[]; offline?: boolean }): Promise<RevocationEvidence>;
  lookupSeal(certDer: Buffer): Promise<{ id: string; name: string } | undefined>;
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
}

export function errorToWire(err: unknown): WireError {
  if (err instanceof ProcessingTimeExceeded) return { name: err.name, message: err.message, limitMs: err.limitMs };
  if (err instanceof DecodeBudgetExceeded) return { name: err.name, message: err.message, limitBytes: err.limitBytes };
  if (err instanceof ObjectBudgetExceeded) return { name: err.name, message: err.message, limitValues: err.limitValues };
  if (err instanceof PdfError) return { name: 'PdfError', message: err.message, code: err.code };
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
