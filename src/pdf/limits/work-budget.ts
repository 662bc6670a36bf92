import { AsyncLocalStorage } from 'node:async_hooks';
import { PdfError } from '../errors.js';

/**
 * How much one request may make of a PDF, whatever the file says: decoded stream bytes (every
 * stream a request decodes is charged once, since decoded streams are kept per parsed stream
 * object), and parsed values (every number, name, string, array and dictionary the object parser
 * builds). A small file that points at one compressed bomb many times, carries many object-stream
 * bombs, or packs millions of tiny objects ends in a 422 naming the limit instead of filling the
 * memory. The third part of the budget, memory, is the heap limit of the worker thread that does
 * the work (see runtime/pdf-pool.ts).
 */
export class DecodeBudgetExceeded extends PdfError {
  constructor(readonly limitBytes: number) {
    super('LIMIT_EXCEEDED', `the PDF decodes to more than the limit of ${Math.round(limitBytes / (1024 * 1024))} MB of stream data (MAX_DECODED_MB)`);
    this.name = 'DecodeBudgetExceeded';
  }
}

export class ObjectBudgetExceeded extends PdfError {
  constructor(readonly limitValues: number) {
    super('LIMIT_EXCEEDED', `the PDF has more than the limit of ${limitValues} parsed values (MAX_PDF_VALUES)`);
    this.name = 'ObjectBudgetExceeded';
  }
}

export interface WorkLimits {
  decodedBytes: number;
  parsedValues: number;
}

interface Budget {
  decodedLeft: number;
  valuesLeft: number;
  limits: WorkLimits;
  exceeded?: DecodeBudgetExceeded | ObjectBudgetExceeded;
}

const current = new AsyncLocalStorage<Budget>();

/** Runs `work`, and everything it starts or awaits, within a budget. */
export function startWorkBudget<T>(limits: WorkLimits, work: () => T): T {
  return current.run({ decodedLeft: limits.decodedBytes, valuesLeft: limits.parsedValues, limits }, work);
}

/** Charges decoded bytes to the running request's budget (nothing outside a request). */
export function chargeDecoded(bytes: number): void {
  const budget = current.getStore();
  if (!budget) return;
  budget.decodedLeft -= bytes;
  if (budget.decodedLeft < 0) throw (budget.exceeded = new DecodeBudgetExceeded(budget.limits.decodedBytes));
}

/** Charges parsed values (the parser charges in batches) to the running request's budget. */
export function chargeParsedValues(count: number): void {
  const budget = current.getStore();
  if (!budget) return;
  budget.valuesLeft -= count;
  if (budget.valuesLeft < 0) throw (budget.exceeded = new ObjectBudgetExceeded(budget.limits.parsedValues));
}

/**
 * Throws when the budget ran out at any point of the request, even where a caller turned the
 * error into a verdict ("this evidence cannot be read"): a report built on a file that was
 * cut short is not an answer.
 */
export function assertWithinBudget(): void {
  const exceeded = current.getStore()?.exceeded;
  if (exceeded) throw exceeded;
}

/** What is left of the decode budget, for decoders to bound a single stream by (Infinity outside a request). */
export function decodedBytesLeft(): number {
  return current.getStore()?.decodedLeft ?? Number.POSITIVE_INFINITY;
}

/** What is left of the running request's budget, to hand on to the thread that does its work. */
export function remainingWorkLimits(): WorkLimits | undefined {
  const budget = current.getStore();
  return budget ? { decodedBytes: Math.max(0, budget.decodedLeft), parsedValues: Math.max(0, budget.valuesLeft) } : undefined;
}
