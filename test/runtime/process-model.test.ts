/**
 * The default process model (config.ts): HTTP processes by database, and PDF threads so that
 * there are as many in all as cores; what the environment sets wins.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultPdfThreads, defaultWorkers, loadConfig } from '../../src/config.js';

describe('the default process model', () => {
  it('runs a process per core on SQLite and one per two cores on PostgreSQL', () => {
    expect([1, 2, 4, 8].map((cores) => defaultWorkers('sqlite', cores))).toEqual([1, 2, 4, 8]);
    expect([1, 2, 3, 4, 8].map((cores) => defaultWorkers('postgres', cores))).toEqual([1, 1, 1, 2, 4]);
  });

  it('gives each process as many PDF threads as makes one per core in all, and at least one', () => {
    expect(defaultPdfThreads(2, 2)).toBe(1);
    expect(defaultPdfThreads(1, 2)).toBe(2);
    expect(defaultPdfThreads(4, 8)).toBe(2);
    expect(defaultPdfThreads(1, 1)).toBe(1);
    expect(defaultPdfThreads(6, 2)).toBe(1);
  });

  it('applies the defaults by the configured database, and takes WORKERS and PDF_THREADS as set', () => {
    const cores = availableParallelism();
    const sqlite = loadConfig({ DATA_DIR: '/tmp/process-model' });
    expect(sqlite).toMatchObject({ workers: cores, pdfThreads: 1 });
    const postgres = loadConfig({ DATA_DIR: '/tmp/process-model', DATABASE_URL: 'postgres://u:p@db:5432/eseal' });
    expect(postgres.workers).toBe(Math.max(1, Math.floor(cores / 2)));
    expect(postgres.pdfThreads).toBe(Math.max(1, Math.round(cores / postgres.workers)));
    expect(loadConfig({ DATA_DIR: '/tmp/process-model', WORKERS: '3', PDF_THREADS: '5' })).toMatchObject({ workers: 3, pdfThreads: 5 });
    expect(loadConfig({ DATA_DIR: '/tmp/process-model', WORKERS: '1' }).pdfThreads).toBe(cores);
  });
});
