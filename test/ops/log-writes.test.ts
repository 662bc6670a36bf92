/**
 * The HTTP worker processes share one standard output. Where that is a pipe (a container's log
 * collector) that reads slowly, every line still arrives whole: each process writes whole lines,
 * at most as many bytes as a pipe takes without interleaving.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tools.js';

describe('log lines from processes sharing a pipe', () => {
  it('arrive whole and all of them when the reader is slow', async () => {
    const fifo = path.join(tempDir('log-fifo'), 'stdout');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const perWriter = 8000;
    const writers = spawn('sh', ['-c', `exec > "${fifo}"; for w in a b; do node_modules/.bin/tsx test/helpers/log-writer.ts $w ${perWriter} & done; wait`], { stdio: ['ignore', 'inherit', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => writers.once('exit', resolve));
    // A reader that takes a small block and then pauses, so the pipe fills up and writers wait.
    const reader = createReadStream(fifo, { highWaterMark: 4096 });
    const chunks: Buffer[] = [];
    reader.on('data', (chunk) => {
      chunks.push(chunk as Buffer);
      reader.pause();
      setTimeout(() => reader.resume(), 1);
    });
    await new Promise<void>((resolve, reject) => reader.once('end', () => resolve()).once('error', reject));
    expect(await exited).toBe(0);

    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    const broken = lines.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken.slice(0, 3)).toEqual([]);
    const records = lines.map((line) => JSON.parse(line) as { writer: string; line: number });
    for (const writer of ['a', 'b']) {
      expect(records.filter((r) => r.writer === writer).map((r) => r.line)).toEqual(Array.from({ length: perWriter }, (_, i) => i));
    }
  }, 120_000);
});
