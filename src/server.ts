#!/usr/bin/env node
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { openService } from './bootstrap.js';
import { fontsFor } from './render/font-set.js';
import { limitConnections } from './http/connection-limits.js';
import { ConfigError, loadConfig } from './config.js';
import { createStdoutLogger } from './logging.js';
import { runPrimary } from './runtime/cluster.js';
import { DatabaseUnavailableError } from './store/errors.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createStdoutLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) {
    runPrimary(config.workers, logger);
    return;
  }
  const service = await openService(config, logger);
  service.pdfPool.warm();
  // Licences and notices are drawn with the embedded fonts (Song, and HanaMin B for CJK
  // Extension B): read them now, once per process, rather than in the first issuance.
  fontsFor(['\u{20BB7}']).catch((err: unknown) => logger.warn({ err }, 'the licence fonts could not be loaded: issuing licences and notices will fail'));
  if (service.newDevToken) {
    // The all-roles token itself never goes to the output or the log (both end up in log
    // collectors): only where to find it.
    process.stdout.write(`\nA development API token (all roles) was written to ${config.dataDir}/dev-api-token (mode 600).\n\n`);
  }
  const server = service.app.listen(config.port, config.host);
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.headersTimeout = config.headersTimeoutMs;
  limitConnections(server, { total: config.maxConnections, perAddress: config.maxConnectionsPerAddress });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const seals = await service.seals.list();
  const { port } = server.address() as AddressInfo;
  logger.info(
    { port, baseUrl: config.baseUrl, dataDir: config.dataDir, seals: seals.map((s) => `${s.id} (${s.name})`) },
    `listening on http://${config.host}:${port}; seals: ${seals.map((s) => s.id).join(', ') || 'none'}`,
  );

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      logger.warn('requests still running after 20 s; closing anyway');
      server.closeAllConnections();
    }, 20_000);
    force.unref();
    server.close(() => {
      server.closeIdleConnections();
      void service.close().then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof DatabaseUnavailableError) {
    process.stderr.write(`cannot open the database: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
