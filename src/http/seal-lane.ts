import type { IncomingMessage, ServerResponse } from 'node:http';
import querystring from 'node:querystring';
import type { Logger } from 'pino';
import { z } from 'zod';
import { assertAllowed } from '../sealing/seal-standing.js';
import type { SealCaller, SealCallers } from '../sealing/seal-callers.js';
import type { SealingService, SealOutcome } from '../sealing/sealing-service.js';
import type { SealStanding } from '../seals/seal-record.js';
import { LevelUnavailableError, NotSealableError } from '../signing/errors.js';
import type { ApiClientStore } from '../store/api-clients.js';
import { assertRole, bearerToken } from './auth.js';
import { pdfTypeProblem } from './pdf-body.js';
import { readBody, type LaneRoute } from './fast-lane.js';
import { mediaType } from './media-type.js';
import type { Metrics } from './metrics.js';
import { HttpProblem } from './problem.js';

const text = (max: number) => z.string().trim().min(1).max(max);

export const SealQuery = z
  .object({
    sealId: text(64),
    mode: z.enum(['stamp', 'seam', 'invisible']).default('stamp'),
    page: z.coerce.number().int().min(1).optional(),
    x: z.coerce.number().finite().min(0).optional(),
    y: z.coerce.number().finite().min(0).optional(),
    width: z.coerce.number().finite().positive().optional(),
    unit: z.enum(['mm', 'pt']).default('mm'),
    anchor: text(100).optional(),
    level: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']).default('B-B'),
    reason: text(200).optional(),
    location: text(200).optional(),
    certify: z.enum(['1', '2', '3']).optional(),
    /** `ses`: a GB/T 38540 SES_Signature instead of CMS, for a seal registered with a national e-seal. */
    format: z.enum(['cms', 'ses']).default('cms'),
  })
  .strict()
  .refine((q) => q.mode !== 'stamp' || (q.x === undefined) === (q.y === undefined), { message: 'give both x and y, or neither', path: ['x'] })
  .refine((q) => !(q.anchor && q.x !== undefined), { message: 'give either anchor or x/y, not both', path: ['anchor'] })
  .refine((q) => q.mode === 'stamp' || (q.anchor === undefined && q.x === undefined && q.page === undefined), {
    message: 'page, x and anchor only apply to mode=stamp (seam takes y)',
    path: ['mode'],
  });

export type SealQuery = z.infer<typeof SealQuery>;

/**
 * A body of at most this many bytes is read before the caller's authority, which is then read
 * once, after the whole document is here: such a body costs less to receive than a read costs.
 * A larger one, or one whose length is not declared, is checked before its upload as well, so
 * that nobody uploads megabytes to be told the seal was revoked.
 */
const READ_FIRST_BYTES = 256 * 1024;

export interface SealLaneDeps {
  sealing: SealingService;
  callers: SealCallers;
  clients: ApiClientStore;
  maxBodyBytes: number;
  /** Whether levels B-T and up are available (a TSA is configured). */
  timestamping: boolean;
  logger: Logger;
  metrics: Metrics;
}


function notSealableProblem(err: NotSealableError): HttpProblem {
  if (err.reason === 'certified-no-changes') return new HttpProblem(409, 'document-certified-no-changes', 'The document is certified and permits no changes', err.message);
  if (err.reason === 'encrypted') return new HttpProblem(422, 'pdf-encrypted', 'Encrypted PDFs cannot be sealed', err.message);
  return new HttpProblem(422, 'pdf-needs-repair', 'The PDF is damaged', err.message);
}

/** The query string as Express's simple parser reads it (a repeated key becomes a list, which the schema refuses). */
function queryOf(url: string | undefined): Record<string, unknown> {
  const at = (url ?? '').indexOf('?');
  return at < 0 ? {} : { ...querystring.parse(url!.slice(at + 1)) };
}

function writeSealed(res: ServerResponse, sealed: SealOutcome): void {
  res.writeHead(200, {
    'Content-Type': 'application/pdf',
    'Content-Length': String(sealed.length),
    'Content-Disposition': 'attachment; filename="sealed.pdf"',
    'X-Signature-Field': sealed.fieldName,
  });
  // Headers and the parts leave in one write.
  res.cork();
  for (const part of sealed.parts.slice(0, -1)) res.write(part);
  res.end(sealed.parts[sealed.parts.length - 1]);
}

/**
 * `POST /v1/seal`, on the fast lane: the service's busiest write. Authority (the client, its
 * seal list, the seal's standing) is read in one query after the document has arrived (and
 * before, for a large upload), or taken from a read a few milliseconds old (`SealCallers`); the
 * sealing service reads the standing again when the key signs, unless that read is fresh, and
 * reads the whole authority once more in the transaction that records the sealing.
 */
export function sealLane(deps: SealLaneDeps): LaneRoute {
  /** The caller and the seal's standing it was judged on, or the problem that refuses the request. */
  const judge = (caller: SealCaller | undefined, query: SealQuery): { clientId: string; standing: SealStanding; readAt: number } => {
    assertRole(caller?.client, 'seal');
    assertAllowed(query.sealId, caller!.standing, caller!.permitted ? [query.sealId] : []);
    if (query.level !== 'B-B' && !deps.timestamping) {
      throw new HttpProblem(422, 'level-not-available', 'This signature level is not available', `level ${query.level} needs a time-stamping authority (TSA_URL), and none is configured`);
    }
    return { clientId: caller!.client.id, standing: caller!.standing!, readAt: caller!.readAt };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const token = bearerToken(req.headers.authorization ?? '');
    if (!token) throw new HttpProblem(401, 'unauthenticated', 'Authentication required', 'send Authorization: Bearer <api key>');
    const parsed = SealQuery.safeParse(queryOf(req.url));
    if (!parsed.success) {
      assertRole(await deps.clients.findCallerByToken(token), 'seal'); // an unknown key hears 401, not what is wrong with its query
      throw parsed.error;
    }
    const query = parsed.data;
    const notPdf = pdfTypeProblem(req.headers['content-type']);
    if (notPdf) throw notPdf;
    const encoding = mediaType(req.headers['content-encoding']);
    if (encoding && encoding !== 'identity') throw new HttpProblem(415, 'unsupported-content-encoding', 'Send the PDF without a content encoding', `Content-Encoding was "${encoding}"`);
    const declared = Number(req.headers['content-length']);
    if (!(declared <= READ_FIRST_BYTES)) judge(await deps.callers.read(token, query.sealId), query);
    const pdf = await readBody(req, res, deps.maxBodyBytes);
    const { clientId, standing, readAt } = judge(await deps.callers.read(token, query.sealId), query);
    if (pdf.length === 0) throw new HttpProblem(400, 'empty-body', 'The request has no PDF', 'the body is empty');
    let sealed: SealOutcome;
    try {
      sealed = await deps.sealing.seal({
        sealId: query.sealId,
        allowedSealIds: [query.sealId],
        checked: { standing, at: readAt },
        actor: clientId,
        pdf,
        placement: { mode: query.mode, page: query.page, x: query.x, y: query.y, width: query.width, unit: query.unit, anchor: query.anchor },
        level: query.level,
        reason: query.reason,
        location: query.location,
        docMdp: query.certify ? (Number(query.certify) as 1 | 2 | 3) : undefined,
        format: query.format,
      });
    } catch (err) {
      if (err instanceof NotSealableError) throw notSealableProblem(err);
      if (err instanceof LevelUnavailableError) throw new HttpProblem(422, 'level-not-available', 'This signature level is not available', err.message);
      throw err;
    }
    writeSealed(res, sealed);
    deps.logger.info({ client: clientId, sealId: sealed.seal.id, field: sealed.fieldName, padesLevel: query.level, bytes: sealed.length }, 'sealed a document');
    deps.metrics.count('eseal_seals_applied_total', 'Seals applied', { level: query.level });
  };

  return { method: 'POST', path: '/v1/seal', handle };
}
