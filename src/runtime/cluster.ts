import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/**
 * The process model: with WORKERS > 1 this primary process only supervises; each of its worker
 * processes is a whole HTTP service (database pool, caches, seal keys, PDF worker threads) on
 * the shared listening port. The first worker starts alone, so that whatever a first start
 * creates (schema migrations, the development PKI and token) is created once; the others start
 * when it listens. A worker that dies is replaced, unless they keep dying (a broken
 * configuration), and a stop signal drains them all.
 */

const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_IN_WINDOW = 5;
const DRAIN_LIMIT_MS = 25_000;

export function runPrimary(workers: number, logger: Logger): void {
  let stopping = false;
  let exitCode = 0;
  let started = false;
  const restarts: number[] = [];

  const fork = (): Worker => cluster.fork();

  cluster.on('listening', () => {
    if (started) return;
    started = true;
    for (let i = 1; i < workers; i++) fork();
    logger.info({ workers }, `running ${workers} HTTP worker processes`);
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    if (!started) {
      // The first worker could not start (configuration, database): neither will the others.
      process.exit(code || 1);
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS_IN_WINDOW) {
      logger.fatal({ pid: worker.process.pid, code, signal }, `HTTP workers died ${restarts.length} times within a minute; stopping`);
      stop('restart-loop', 1);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'an HTTP worker process died; starting another');
    fork();
  });

  const stop = (reason: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    logger.info({ reason }, 'stopping: draining the HTTP workers');
    const running = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (running.length === 0) process.exit(exitCode);
    for (const worker of running) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(exitCode || 1);
    }, DRAIN_LIMIT_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  fork();
}
