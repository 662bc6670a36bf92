import { AsyncLocalStorage } from 'node:async_hooks';
import { PdfError } from '../pdf/errors.js';

/**
 * How many decoded bytes one request may produce, whatever the file says: every stream a
 * request decodes is charged (once: decoded streams are kept per parsed stream object), so a
 * small file that points at one compressed bomb many times, or carries many object-stream
 * bombs, ends in a 422 naming the limit instead of filling the memory.
 */
export class DecodeBudgetExceeded extends PdfError {
  constructor(readonly limitBytes: number) {
    super('LIMIT_EXCEEDED', `the PDF decodes to more than the limit of ${Math.round(limitBytes / (1024 * 1024))} MB of stream data (MAX_DECODED_MB)`);
    this.name = 'DecodeBudgetExceeded';
  }
}

interface Budget {
  left: number;
  limit: number;
  exceeded: boolean;
}

const current = new AsyncLocalStorage<Budget>();

/** Runs `work`, and everything it starts or awaits, with a budget of decoded bytes. */
export function startDecodeBudget<T>(limitBytes: number, work: () => T): T {
  return current.run({ left: limitBytes, limit: limitBytes, exceeded: false }, work);
}

/** Charges decoded bytes to the running request's budget (nothing outside a request). */
export function chargeDecoded(bytes: number): void {
  const budget = current.getStore();
  if (!budget) return;
  budget.left -= bytes;
  if (budget.left < 0) {
    budget.exceeded = true;
    throw new DecodeBudgetExceeded(budget.limit);
  }
}

/**
 * Throws when the budget ran out at any point of the request, even where a caller turned the
 * error into a verdict ("this evidence cannot be read"): a report built on a file that was
 * cut short is not an answer.
 */
export function assertWithinDecodeBudget(): void {
  const budget = current.getStore();
  if (budget?.exceeded) throw new DecodeBudgetExceeded(budget.limit);
}

/** What is left of the budget, for decoders to bound a single stream by (Infinity outside a request). */
export function decodedBytesLeft(): number {
  return current.getStore()?.left ?? Number.POSITIVE_INFINITY;
}
