import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The service's structured JSON logger. Bearer tokens, passwords and secrets are redacted
 * wherever they appear as fields; the code never logs citizens' ID numbers or document content.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: ['req.headers.authorization', 'req.headers["x-pdf-password"]', 'token', 'password', '*.token', '*.password', 'secret', '*.secret'], censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
