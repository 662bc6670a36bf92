import { renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ProcessingTimeExceeded } from '../pdf/limits/deadline.js';
import { remainingWorkLimits, type WorkLimits } from '../pdf/limits/work-budget.js';
import type { PdfLimits } from '../pdf/document.js';
import { MemoryBudgetExceeded, PoolBusyError } from './pool-errors.js';
import type { ValidationReport } from '../validation/report.js';
import type { ExtendResult } from '../signing/extend.js';
import { errorFromWire, errorToWire, forPosting, IMAGES_KEPT_PER_THREAD, KEYS_KEPT_PER_THREAD, postableValue, reviveBuffers, type CallMessage, type ExtendJob, type FromWorker, type HostCalls, type JobMessage, type PdfJob, type ReplyMessage, type SealJob, type SealJobResult, type SerialisedReport, type VerifyJob, type WorkerSetup } from './worker-protocol.js';

/**
 * The pool of worker threads that parse and validate PDFs, so that no file, however heavy,
 * holds the HTTP thread: health checks, status answers and other requests go on while every
 * worker is busy. Each worker runs one job at a time; jobs beyond the workers wait in a bounded
 * queue, and beyond that the pool refuses (503 with Retry-After). A job that outlives its time
 * (the worker checks its own deadline; a hard stop a little later ends the thread) or its
 * worker's heap limit ends with a 422, and the thread is replaced.
 */

export interface PdfPoolOptions {
  threads: number;
  /** Jobs waiting for a thread at most; more are refused. */
  queueLimit: number;
  /** The heap limit of each worker thread: the memory part of a job's budget. */
  heapMb: number;
  processingTimeMs: number;
  workLimits: WorkLimits;
  setup: { trustAnchors: Buffer[]; intermediates: Buffer[]; policy: WorkerSetup['policy'] };
  /** What every job may ask of the HTTP thread; a job adds its own (its seal's key). */
  host: Pick<HostCalls, 'revocation' | 'lookupSeal'> & Partial<HostCalls>;
  logger?: Logger;
}

export interface VerifyOptions {
  validationTime?: Date;
  offline?: boolean;
  password?: string;
  pdfLimits: PdfLimits;
}

/** A job asked for something its kind does not get. */
const notForThisJob = (name: string) => (): Promise<never> => Promise.reject(new Error(`${name} is not available to this job`));

interface Entry {
  job: PdfJob;
  host: HostCalls;
  /** The first failure of a host call: when the job fails of it, the caller gets it as it was (an HSM error stays one). */
  hostError?: Error;
  workLimits: WorkLimits;
  queuedAt: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker?: Worker;
  /** Seal images the current thread has been sent (it keeps them). */
  imagesSent: Set<string>;
  /** Seal keys the current thread has been sent for signing in the thread (it keeps them). */
  keysSent: Set<string>;
  running?: { id: number; entry: Entry; hardStop: NodeJS.Timeout };
}

/** Time a worker gets past its own deadline before the pool ends the thread. */
const HARD_STOP_GRACE_MS = 2_000;

let sourceBundle: string | undefined;

/**
 * From the TypeScript sources (tests, `npm run dev`) the thread runs the worker bundled into one
 * file by esbuild, once per process: loading ~150 modules one by one through a TypeScript loader
 * costs each new thread over a second of CPU. The bundle sits beside this file, so that paths
 * modules compute from their own location (`policies/`) still resolve; every process writes it
 * to a file of its own and renames that over the one name, so processes starting together never
 * read a half-written bundle and no file is left behind per process.
 */
function bundledSourceWorker(): string {
  if (sourceBundle) return sourceBundle;
  const require = createRequire(import.meta.url);
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  const bundle = fileURLToPath(new URL('./.pdf-worker.bundle.mjs', import.meta.url));
  const written = `${bundle}.${process.pid}.tmp`;
  buildSync({
    entryPoints: [fileURLToPath(new URL('./pdf-worker.ts', import.meta.url))],
    outfile: written,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  renameSync(written, bundle);
  return (sourceBundle = bundle);
}

function workerScript(): URL | string {
  if (import.meta.url.endsWith('.js')) return new URL('./pdf-worker.js', import.meta.url);
  return bundledSourceWorker();
}

function verifyJob(bytes: Buffer, options: VerifyOptions, answer: VerifyJob['answer']): VerifyJob {
  const job: VerifyJob = { kind: 'verify', bytes, answer, offline: options.offline ?? false, pdfLimits: options.pdfLimits };
  if (options.validationTime) job.validationTime = options.validationTime;
  if (options.password) job.password = options.password;
  return job;
}

/**
 * The job with its document (and a seal job's certificates) in blocks of their own, moved to the
 * thread rather than cloned with whatever larger block they are views of. The caller keeps its
 * own bytes: a seal answers the original followed by the update.
 */
function postable(job: PdfJob): { job: PdfJob; transfer: ArrayBuffer[] } {
  const document = forPosting(job.bytes);
  if (job.kind !== 'seal') return { job: { ...job, bytes: document.bytes }, transfer: document.transfer };
  const chain = job.seal.chainDer.map((der) => forPosting(der));
  return {
    job: { ...job, bytes: document.bytes, seal: { ...job.seal, chainDer: chain.map((c) => c.bytes) } },
    transfer: [...document.transfer, ...chain.flatMap((c) => c.transfer)],
  };
}

/**
 * Whether the thread has `key` already: if not, it is recorded as sent now, forgetting the
 * oldest beyond `kept` as the thread does.
 */
function rememberSent(sent: Set<string>, key: string, kept: number): boolean {
  if (sent.has(key)) return true;
  if (sent.size >= kept) sent.delete(sent.values().next().value!);
  sent.add(key);
  return false;
}

export class PdfPool {
  private readonly slots: Slot[];
  private readonly queue: Entry[] = [];
  private nextJobId = 1;
  private closed = false;

  constructor(private readonly options: PdfPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.threads) }, () => ({ imagesSent: new Set<string>(), keysSent: new Set<string>() }));
  }

  /** Starts every thread now rather than at the first job (production start-up). */
  warm(): void {
    for (const slot of this.slots) slot.worker ??= this.spawn(slot);
  }

  stats(): { threads: number; busy: number; queued: number; queueLimit: number } {
    return { threads: this.slots.length, busy: this.slots.filter((s) => s.running).length, queued: this.queue.length, queueLimit: this.options.queueLimit };
  }

  verify(bytes: Buffer, options: VerifyOptions): Promise<ValidationReport> {
    return this.submit(verifyJob(bytes, options, 'report')) as Promise<ValidationReport>;
  }

  /** The report as JSON text, serialised in the worker: for answers sent as they are. */
  verifyJson(bytes: Buffer, options: VerifyOptions): Promise<SerialisedReport> {
    return this.submit(verifyJob(bytes, options, 'json')) as Promise<SerialisedReport>;
  }

  /** Seals in a worker; the key signs here, through `sign`. B-B and B-T answer the update to append to `bytes`. */
  seal(job: SealJob, sign: HostCalls['sign']): Promise<SealJobResult> {
    return this.submit(job, { sign }) as Promise<SealJobResult>;
  }

  /** Extends in a worker; the result carries the new file's SHA-256. */
  extend(job: ExtendJob): Promise<ExtendResult & { documentSha256: string }> {
    return this.submit(job) as Promise<ExtendResult & { documentSha256: string }>;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.queue.splice(0)) entry.reject(new PoolBusyError(5));
    for (const slot of this.slots) this.finish(slot, (entry) => entry.reject(new PoolBusyError(5)));
    await Promise.all(this.slots.map((slot) => slot.worker?.terminate()));
  }

  private submit(job: PdfJob, jobHost: Partial<HostCalls> = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new PoolBusyError(5));
    // The request's own budget when it has one (what it already spent stays spent), else the configured one.
    const workLimits = remainingWorkLimits() ?? this.options.workLimits;
    return new Promise((resolve, reject) => {
      const host: HostCalls = {
        sign: notForThisJob('signing'),
        timestamp: notForThisJob('time-stamping'),
        crlsFor: notForThisJob('revocation data'),
        ocspsFor: notForThisJob('revocation data'),
        ...this.options.host,
        ...jobHost,
      };
      const entry: Entry = { job, host, workLimits, queuedAt: Date.now(), resolve, reject };
      const idle = this.slots.find((s) => !s.running);
      if (idle) this.dispatch(idle, entry);
      else if (this.queue.length < this.options.queueLimit) this.queue.push(entry);
      else reject(new PoolBusyError(1));
    });
  }

  private dispatch(slot: Slot, entry: Entry): void {
    const worker = (slot.worker ??= this.spawn(slot));
    const id = this.nextJobId++;
    const limitMs = this.options.processingTimeMs;
    const hardStop = setTimeout(() => this.fail(slot, new ProcessingTimeExceeded(limitMs), true), limitMs + HARD_STOP_GRACE_MS);
    slot.running = { id, entry, hardStop };
    const { job, transfer } = postable(this.withoutSentBefore(slot, entry.job));
    const message: JobMessage = { type: 'job', id, job, processingTimeMs: limitMs, workLimits: entry.workLimits };
    worker.postMessage(message, transfer);
  }

  /** A seal job's image and local key go to a thread once; later jobs name them by key. */
  private withoutSentBefore(slot: Slot, job: PdfJob): PdfJob {
    if (job.kind !== 'seal') return job;
    let sent = job;
    if (rememberSent(slot.imagesSent, job.seal.imageKey, IMAGES_KEPT_PER_THREAD)) {
      const { image: _sent, ...seal } = job.seal;
      sent = { ...sent, seal };
    }
    if (job.localSigning && rememberSent(slot.keysSent, job.localSigning.keyId, KEYS_KEPT_PER_THREAD)) {
      const { key: _sent, ...localSigning } = job.localSigning;
      sent = { ...sent, localSigning };
    }
    return sent;
  }

  /** The next queued job, unless it waited longer than two jobs may take: then the service is too busy for it. */
  private next(slot: Slot): void {
    if (this.closed) return;
    for (let entry = this.queue.shift(); entry; entry = this.queue.shift()) {
      if (Date.now() - entry.queuedAt <= 2 * this.options.processingTimeMs) {
        this.dispatch(slot, entry);
        return;
      }
      entry.reject(new PoolBusyError(1));
    }
  }

  private finish(slot: Slot, settle: (entry: Entry) => void): void {
    const running = slot.running;
    if (!running) return;
    clearTimeout(running.hardStop);
    slot.running = undefined;
    settle(running.entry);
    this.next(slot);
  }

  /** Ends the running job with `err`; a thread that overran or died is ended and replaced on demand. */
  private fail(slot: Slot, err: Error, endThread: boolean): void {
    if (endThread && slot.worker) {
      const worker = slot.worker;
      slot.worker = undefined;
      worker.removeAllListeners();
      worker.on('error', () => undefined);
      void worker.terminate();
    }
    this.finish(slot, (entry) => entry.reject(err));
  }

  private spawn(slot: Slot): Worker {
    slot.imagesSent.clear();
    slot.keysSent.clear();
    const worker = new Worker(workerScript(), {
      workerData: this.options.setup satisfies WorkerSetup,
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb },
    });
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'call') {
        if (slot.running) void this.answer(worker, slot.running.entry, message);
        return;
      }
      if (slot.running?.id !== message.id) return;
      if (message.ok) this.finish(slot, (entry) => entry.resolve(reviveBuffers(message.value)));
      else {
        const wire = message.error!;
        this.finish(slot, (entry) => entry.reject(entry.hostError?.name === wire.name && entry.hostError.message === wire.message ? entry.hostError : errorFromWire(wire)));
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      if (slot.worker !== worker) return;
      const outOfMemory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      if (!outOfMemory) this.options.logger?.error({ err }, 'a PDF worker thread failed');
      this.fail(slot, outOfMemory ? new MemoryBudgetExceeded(this.options.heapMb) : new Error('the PDF worker failed'), true);
    });
    worker.on('exit', (code) => {
      if (slot.worker !== worker || this.closed) return;
      slot.worker = undefined;
      this.options.logger?.warn({ code }, 'a PDF worker thread exited');
      this.fail(slot, new Error(`the PDF worker stopped (exit code ${code})`), false);
    });
    return worker;
  }

  private async answer(worker: Worker, entry: Entry, call: CallMessage): Promise<void> {
    let reply: ReplyMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      const fn = entry.host[call.name] as (...args: unknown[]) => Promise<unknown>;
      const posted = postableValue(await fn(...reviveBuffers(call.args)));
      reply = { type: 'reply', callId: call.callId, ok: true, value: posted.value };
      transfer = posted.transfer;
    } catch (err) {
      entry.hostError ??= err instanceof Error ? err : new Error(String(err));
      reply = { type: 'reply', callId: call.callId, ok: false, error: errorToWire(err) };
    }
    try {
      worker.postMessage(reply, transfer);
    } catch {
      // The thread was ended meanwhile.
    }
  }
}
