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
  // A declared length over the limit is refused before a byte of the body is read (the body
  // parser would read it all to the end first), and the connection is closed behind the answer.
  const refuseDeclaredTooLarge: RequestHandler = (req, res, next) => {
    const declared = Number(req.get('content-length') ?? '0');
    if (Number.isFinite(declared) && declared > limit) {
      res.setHeader('Connection', 'close');
      res.on('finish', () => req.socket.destroy());
      next(new HttpProblem(413, 'body-too-large', 'The request body is too large', `the limit is ${limit} bytes; this request declares ${declared}`));
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
  return [requirePdfType, refuseDeclaredTooLarge, express.raw({ type: () => true, limit }), requireBody, startClock];
}
