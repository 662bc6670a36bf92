import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { pemToDerList } from '../pki/pem.js';
import type { ParsedCertificate } from '../revocation/parsed-certificates.js';
import type { StatusAnswers } from '../revocation/status-answers.js';
import { readBody, type LaneRoute } from './fast-lane.js';
import { mediaType } from './media-type.js';
import { HttpProblem } from './problem.js';
import { admitStatusRequest, type StatusAccessOptions } from './status-access.js';

/** Certificates in one PEM request (a certificate and its chain, or a few of them). */
const MAX_CERTIFICATES = 20;
/** Items in one batch request. */
export const MAX_BATCH_CERTIFICATES = 100;
const MAX_ITEM_CHARS = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
const PEM_HEADER = '-----BEGIN CERTIFICATE-----';

/** The batch form: each item one certificate, PEM (its chain may follow it) or base64 DER. */
export const StatusBatchBody = z.object({
  certificates: z
    .array(z.string().min(1).max(MAX_ITEM_CHARS))
    .min(1)
    .max(MAX_BATCH_CERTIFICATES)
    .describe('each item is one certificate in PEM, optionally followed by its chain (PEM), or one certificate as base64 DER; answers come in the same order'),
});

const invalidCertificate = (detail: string): HttpProblem => new HttpProblem(422, 'invalid-certificate', 'A certificate cannot be parsed', detail);

/** Problem+json fields of an item that failed, inside the batch answer. */
function itemErrorJson(problem: HttpProblem): string {
  return JSON.stringify({ error: { type: `/problems/${problem.slug}`, title: problem.title, status: problem.status, detail: problem.message } });
}

/** The body is written as serialised: no re-serialisation and no ETag hashing of it. */
function sendJson(res: ServerResponse, body: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

const certificatesJson = (items: string[]): string => `{"certificates":[${items.join(',')}]}`;

/** One batch item: DER certificates, the first asked about. */
function decodeItem(item: string): Buffer[] {
  if (item.includes(PEM_HEADER)) {
    const ders = pemToDerList(item);
    if (ders.length === 0) throw invalidCertificate('the PEM text holds no complete certificate');
    if (ders.length > MAX_CERTIFICATES) throw new HttpProblem(413, 'too-many-certificates', `At most ${MAX_CERTIFICATES} certificates per item`);
    return ders;
  }
  const base64 = item.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw invalidCertificate('send a PEM certificate or one DER certificate in base64');
  return [Buffer.from(base64, 'base64')];
}

export interface StatusRouteDeps {
  answers: StatusAnswers;
  access: StatusAccessOptions;
  /** The client's address, from X-Forwarded-For only through the proxies TRUST_PROXY names. */
  clientAddress: (req: IncomingMessage) => string | undefined;
}

/**
 * `POST /v1/certificates/status`: PEM (one or many) or one DER certificate, the chain may follow;
 * or JSON `{"certificates": [...]}` for batch callers, each item answered, or refused, on its own.
 * Served on the fast lane: platform components ask for status thousands of times a second.
 */
export function statusRoute(deps: StatusRouteDeps): LaneRoute {
  const parse = (der: Buffer): ParsedCertificate => {
    try {
      return deps.answers.parse(der);
    } catch {
      throw invalidCertificate('send PEM certificates or one DER certificate');
    }
  };

  const answerItem = async (item: string): Promise<string> => {
    try {
      const [cert, ...chain] = decodeItem(item).map(parse);
      return await deps.answers.answerJson(cert!, chain);
    } catch (err) {
      if (err instanceof HttpProblem) return itemErrorJson(err);
      throw err;
    }
  };

  const batch = async (body: Buffer): Promise<string> => {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpProblem(400, 'invalid-json', 'The body is not JSON', 'send {"certificates": ["<PEM or base64 DER>", ...]}');
    }
    const count = (json as { certificates?: unknown } | null)?.certificates;
    if (Array.isArray(count) && count.length > MAX_BATCH_CERTIFICATES) throw new HttpProblem(413, 'too-many-certificates', `At most ${MAX_BATCH_CERTIFICATES} certificates per request`);
    const { certificates } = StatusBatchBody.parse(json);
    return certificatesJson(await Promise.all(certificates.map(answerItem)));
  };

  const single = async (body: Buffer): Promise<string> => {
    const text = body.toString('latin1');
    const ders = text.includes(PEM_HEADER) ? pemToDerList(text) : [body];
    if (ders.length === 0) throw invalidCertificate('the PEM text holds no complete certificate');
    if (ders.length > MAX_CERTIFICATES) throw new HttpProblem(413, 'too-many-certificates', `At most ${MAX_CERTIFICATES} certificates per request`);
    const sent = ders.map(parse);
    // The first certificate is asked about; with a chain, every certificate but self-issued anchors.
    const asked = sent.length > 1 ? sent.filter((c) => !c.selfIssued) : sent;
    return certificatesJson(await Promise.all(asked.map((cert) => deps.answers.answerJson(cert, sent))));
  };

  return {
    method: 'POST',
    path: '/v1/certificates/status',
    handle: async (req, res) => {
      await admitStatusRequest(deps.access, req.headers.authorization, deps.clientAddress(req), res);
      const body = await readBody(req, res, MAX_BODY_BYTES);
      if (body.length === 0) throw new HttpProblem(400, 'empty-body', 'Send one or more certificates (PEM or DER), or JSON {"certificates": [...]}');
      sendJson(res, mediaType(req.headers['content-type']) === 'application/json' ? await batch(body) : await single(body));
    },
  };
}
