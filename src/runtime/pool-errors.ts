import { PdfError } from '../pdf/errors.js';

/** Every thread busy and the queue full: the caller should come back shortly. */
export class PoolBusyError extends Error {
  override name = 'PoolBusyError';
  constructor(readonly retryAfterSeconds: number) {
    super('every PDF worker is busy and the queue is full');
  }
}

export class MemoryBudgetExceeded extends PdfError {
  constructor(readonly limitMb: number) {
    super('LIMIT_EXCEEDED', `processing the PDF needed more than the memory limit of ${limitMb} MB (PDF_THREAD_HEAP_MB)`);
    this.name = 'MemoryBudgetExceeded';
  }
}
