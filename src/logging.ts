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
 * The most bytes a pipe takes in one write without another writer's bytes in between (PIPE_BUF
 * on Linux). The HTTP worker processes share one standard output, in a container a pipe to the
 * log collector: a longer write that finds the pipe full is finished later, and another process's
 * lines can land inside it, breaking lines of both.
 */
const ATOMIC_WRITE_BYTES = 4096;

/**
 * The service's log on standard output, written asynchronously, at most a quarter of a second
 * late, and whatever is left when the process exits (pino flushes it): a write per line cost a
 * system call, and a wake-up of the log's reader, per request. Each write starts once 3 KB wait,
 * and holds whole lines, at most `ATOMIC_WRITE_BYTES` (a longer line is written alone).
 */
export function createStdoutLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: ATOMIC_WRITE_BYTES - 1024, maxWrite: ATOMIC_WRITE_BYTES });
  setInterval(() => destination.flush(), FLUSH_EVERY_MS).unref();
  return createLogger(level, destination);
}
