import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The service's structured JSON logger. Bearer tokens, passwords and secrets are redacted
 * wherever they appear as fields; the code never logs citizens' ID numbers or document content.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: ['req.headers.authorization', 'req.headers["x-pdf-password"]', 'token', 'password', '*.token', '*.password', 'secret', '*.secret'], censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** How long a log line waits at most in the buffer of the service's standard output. */
const FLUSH_EVERY_MS = 250;

/**
 * The service's log on standard output, written asynchronously in blocks of up to 4 KB, at most
 * a quarter of a second late, and whatever is left when the process exits (pino flushes it).
 * A write per line cost a system call, and a wake-up of the log's reader, per request.
 */
export function createStdoutLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), FLUSH_EVERY_MS).unref();
  return createLogger(level, destination);
}
