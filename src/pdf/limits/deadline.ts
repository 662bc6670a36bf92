import { AsyncLocalStorage } from 'node:async_hooks';
import { PdfError } from '../errors.js';
import { DecodeBudgetExceeded, ObjectBudgetExceeded } from './work-budget.js';

/**
 * The processing-time limit of one request. Parsing and validation are synchronous work on
 * hostile input, so they cannot be interrupted from outside: instead the loops that can run
 * long (object loading, repair scans, content operators, revision diffs, signatures) call
 * `checkDeadline()`, which throws once the request's time is up.
 */
export class ProcessingTimeExceeded extends PdfError {
  constructor(readonly limitMs: number) {
    super('LIMIT_EXCEEDED', `processing took longer than the limit of ${limitMs / 1000} s`);
    this.name = 'ProcessingTimeExceeded';
  }
}

interface Deadline {
  until: number;
  limitMs: number;
}

const current = new AsyncLocalStorage<Deadline>();

/** Runs `work`, and everything it starts or awaits, under a processing-time limit. */
export function startDeadline<T>(limitMs: number, work: () => T): T {
  return current.run({ until: Date.now() + limitMs, limitMs }, work);
}

export function checkDeadline(): void {
  const deadline = current.getStore();
  if (deadline !== undefined && Date.now() > deadline.until) throw new ProcessingTimeExceeded(deadline.limitMs);
}

/** For catch blocks that turn bad input into a verdict: running out of time or budget is not a verdict. */
export function rethrowIfOutOfTime(err: unknown): void {
  if (err instanceof ProcessingTimeExceeded || err instanceof DecodeBudgetExceeded || err instanceof ObjectBudgetExceeded) throw err;
}
