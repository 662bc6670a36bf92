import express, { type RequestHandler } from 'express';
import { startDeadline } from '../limits/deadline.js';
import { startDecodeBudget } from '../limits/decode-budget.js';

export const DEFAULT_MAX_DECODED_BYTES = 512 * 1024 * 1024;
import { HttpProblem } from './problem.js';

/**
 * Accepts an `application/pdf` body up to `limit` bytes into `req.body` as a Buffer, then starts
 * the request's processing-time clock (the upload itself does not count) and its budget of
 * decoded stream bytes.
 */
export function pdfBody(limit: number, processingTimeMs: number, maxDecodedBytes = DEFAULT_MAX_DECODED_BYTES): RequestHandler[] {
  const requirePdfType: RequestHandler = (req, _res, next) => {
    const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/pdf') {
      next(new HttpProblem(415, 'unsupported-media-type', 'Send the PDF as application/pdf', `Content-Type was "${type || 'missing'}"`));
      return;
    }
    next();
  };
  const requireBody: RequestHandler = (req, _res, next) => {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      next(new HttpProblem(400, 'empty-body', 'The request has no PDF', 'the body is empty'));
      return;
    }
    next();
  };
  const startClock: RequestHandler = (_req, _res, next) => startDeadline(processingTimeMs, () => startDecodeBudget(maxDecodedBytes, next));
  return [requirePdfType, express.raw({ type: () => true, limit }), requireBody, startClock];
}
