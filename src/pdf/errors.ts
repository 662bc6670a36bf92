export type PdfErrorCode =
  | 'NOT_PDF'
  | 'TRUNCATED'
  | 'MALFORMED'
  | 'ENCRYPTED'
  | 'UNSUPPORTED'
  | 'LIMIT_EXCEEDED';

/** A problem with the PDF given to us (never a bug of ours): callers turn it into a 4xx. */
export class PdfError extends Error {
  constructor(
    readonly code: PdfErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PdfError';
  }
}
