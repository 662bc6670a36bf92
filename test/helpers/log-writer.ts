/**
 * Writes `count` log lines of varied length with the service's standard-output logger, in bursts
 * as a busy service does: `tsx test/helpers/log-writer.ts <writer> <count>`.
 */
import { createStdoutLogger } from '../../src/logging.js';

const [writer = 'w', count = '1000'] = process.argv.slice(2);
const logger = createStdoutLogger('info');
const total = Number(count);
let written = 0;

function burst(): void {
  for (let i = 0; i < 200 && written < total; i++, written++) logger.info({ writer, line: written, filler: 'x'.repeat(50 + ((written * 37) % 700)) }, 'request');
  if (written < total) setImmediate(burst);
}
burst();
