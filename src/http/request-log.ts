import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/** One answered request, as the log and the metrics see it. */
export interface AnsweredRequest {
  method: string;
  path: string;
  /** The route pattern, not the path, so identifiers do not become metric label values. */
  route: string;
  status: number;
  ms: number;
}

/** Records answered requests: one log line and one histogram observation each, whichever router answered. */
export function requestRecorder(logger: Logger, metrics: Metrics): (request: AnsweredRequest) => void {
  return ({ method, path, route, status, ms }) => {
    logger.info({ method, path, status, ms: Math.round(ms * 10) / 10 }, 'request');
    metrics.observeRequest({ method, route, status: String(status) }, ms / 1000);
  };
}
