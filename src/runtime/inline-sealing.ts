import { ProcessingTimeExceeded, startDeadline } from '../pdf/limits/deadline.js';
import { DecodeBudgetExceeded, ObjectBudgetExceeded, startWorkBudget, type WorkLimits } from '../pdf/limits/work-budget.js';
import type { PdfPool } from './pdf-pool.js';
import { runSeal, type JobContext } from './worker-jobs.js';
import type { HostCalls, SealJob, SealJobResult } from './worker-protocol.js';

/**
 * Where a sealing job runs. A small B-B job runs on the calling (HTTP) thread under a small time
 * limit and work budget of its own; a job past either, and every larger or other job, runs in a
 * PDF worker thread under the full limits.
 *
 * Why: handing a job to a thread and its answer back wakes two threads per document. On the
 * 2-core benchmark machine that cost more CPU than sealing a one-page document does (about
 * 1.4 ms of the service's CPU per seal through a thread against about 0.8 ms here), and it is
 * what kept sealing on PostgreSQL below its target. A job here holds the HTTP thread for at most
 * its small limit, as the thread checks it in the loops that can run long (`checkDeadline`), so
 * a heavy or hostile document costs the other requests that much at worst before it moves on to
 * a worker thread, where its memory is bounded as well.
 */

/** What one sealing job needs: the PDF worker pool and this lane alike. */
export interface SealJobRunner {
  seal(job: SealJob, sign: HostCalls['sign']): Promise<SealJobResult>;
}

/** Where a job ran: `pdf-thread-after-limits` had first run out of its limits here. */
export type SealJobPlace = 'http-thread' | 'pdf-thread' | 'pdf-thread-after-limits';

export interface InlineSealingOptions {
  /** Documents of at most this many bytes are tried here; 0 sends every job to a thread. */
  maxBytes: number;
  /** Time a job may take here before it moves to a thread. */
  timeMs: number;
  /** The work budget of a job here. */
  workLimits: WorkLimits;
  /** What verification would need; a sealing job here uses none of it. */
  validation: JobContext['validation'];
  onJob?: (place: SealJobPlace) => void;
}

/** A job's work budget here: enough for any ordinary small document, far below the full one. */
export const INLINE_WORK_LIMITS: WorkLimits = { decodedBytes: 4 * 1024 * 1024, parsedValues: 100_000 };

const notInline = (name: string) => (): Promise<never> => Promise.reject(new Error(`${name} is not available to a job on the HTTP thread`));

function outOfLimits(err: unknown): err is ProcessingTimeExceeded | DecodeBudgetExceeded | ObjectBudgetExceeded {
  return err instanceof ProcessingTimeExceeded || err instanceof DecodeBudgetExceeded || err instanceof ObjectBudgetExceeded;
}

/**
 * `exceeded`, from a job that ran out of this lane's limits after its key had signed, and so is
 * not done again in a thread, told as such: its own message names the full limit and its
 * setting, which did not run out. Its class, and so its problem, stays.
 */
function ranOutHere(exceeded: ProcessingTimeExceeded | DecodeBudgetExceeded | ObjectBudgetExceeded): Error {
  const limit =
    exceeded instanceof ProcessingTimeExceeded
      ? `${exceeded.limitMs} ms`
      : exceeded instanceof DecodeBudgetExceeded
        ? `${Math.round(exceeded.limitBytes / (1024 * 1024))} MB of stream data`
        : `${exceeded.limitValues} parsed values`;
  exceeded.message = `sealing a small document ran past the limit of ${limit} it is given on the service's HTTP thread after its seal was signed, and was not sealed again in a PDF thread`;
  return exceeded;
}

export class InlineSealing implements SealJobRunner {
  constructor(
    private readonly pool: Pick<PdfPool, 'seal'>,
    private readonly options: InlineSealingOptions,
  ) {}

  /** B-B only: higher levels wait on a TSA or revocation sources, which a time limit here must not count. */
  private runsHere(job: SealJob): boolean {
    return job.level === 'B-B' && job.bytes.length <= this.options.maxBytes;
  }

  async seal(job: SealJob, sign: HostCalls['sign']): Promise<SealJobResult> {
    if (!this.runsHere(job)) {
      this.options.onJob?.('pdf-thread');
      return this.pool.seal(job, sign);
    }
    // Once the key has signed here, the job is not done again in a thread: that would make a
    // second signature of the seal for one request. (The limits trip while the document is
    // parsed, which comes before signing.)
    let signed = false;
    const signHere: HostCalls['sign'] = (data, digest) => {
      signed = true;
      return sign(data, digest);
    };
    try {
      // The key signs through `sign`, here: the job carries no key for a thread to keep.
      const { localSigning: _forThreads, ...here } = job;
      const result = await startDeadline(this.options.timeMs, () => startWorkBudget(this.options.workLimits, () => runSeal(here, this.context(signHere))));
      this.options.onJob?.('http-thread');
      return result;
    } catch (err) {
      if (!outOfLimits(err)) throw err;
      if (signed) throw ranOutHere(err);
      this.options.onJob?.('pdf-thread-after-limits');
      return this.pool.seal(job, sign);
    }
  }

  private context(sign: HostCalls['sign']): JobContext {
    const host: HostCalls = {
      sign,
      revocation: notInline('revocation'),
      lookupSeal: notInline('seal lookup'),
      timestamp: notInline('time-stamping'),
      crlsFor: notInline('revocation data'),
      ocspsFor: notInline('revocation data'),
    };
    return { host, timestamper: { timestamp: host.timestamp }, validation: this.options.validation };
  }
}
