/**
 * Run by dev-pki-template.ts in a process of its own (the global setup's module runner cannot
 * load the service): starts the service as a test service starts, in the data dir given as the
 * argument, and stops it, leaving its development PKI in `<dir>/pki`.
 */
import { pino } from 'pino';
import { openService } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: make-dev-pki-template.ts <data dir>');
const service = await openService(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PORT: '0' }), pino({ level: 'silent' }));
await service.close();
