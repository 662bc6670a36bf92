import express, { type RequestHandler } from 'express';
import { startDeadline } from '../pdf/limits/deadline.js';
import { startWorkBudget, type WorkLimits } from '../pdf/limits/work-budget.js';
import { HttpProblem } from './problem.js';
import { mediaType } from './media-type.js';
import { closeAfterAnswer } from './close-after-answer.js';

export const DEFAULT_WORK_LIMITS: WorkLimits = { decodedBytes: 512 * 1024 * 1024, parsedValues: 5_000_000 };

/** The 415 for a body that is not declared `application/pdf`, or undefined when it is. */
export function pdfTypeProblem(contentType: string | undefined): HttpProblem | undefined {
  const type = mediaType(contentType);
  return type === 'application/pdf' ? undefined : new HttpProblem(415, 'unsupported-media-type', 'Send the PDF as application/pdf', `Content-Type was "${type || 'missing'}"`);
}

/**
 * Accepts an `application/pdf` body up to `limit` bytes into `req.body` as a Buffer, then starts
 * the request's processing-time clock (the upload itself does not count) and its work budget
 * (decoded stream bytes, parsed values).
 */
export function pdfBody(limit: number, processingTimeMs: number, workLimits = DEFAULT_WORK_LIMITS): RequestHandler[] {
  const requirePdfType: RequestHandler = (req, _res, next) => {
    next(pdfTypeProblem(req.get('content-type')));
  };
  // A declared length over the limit is refused before a byte of the body is read (the body
  // parser would read it all to the end first), and the connection is closed behind the answer.
  const refuseDeclaredTooLarge: RequestHandler = (req, res, next) => {
    const declared = Number(req.get('content-length') ?? '0');
    if (Number.isFinite(declared) && declared > limit) {
      closeAfterAnswer(req, res);
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
  const startClock: RequestHandler = (_req, _res, next) => startDeadline(processingTimeMs, () => startWorkBudget(workLimits, next));
  return [requirePdfType, refuseDeclaredTooLarge, express.raw({ type: () => true, limit }), requireBody, startClock];
}
