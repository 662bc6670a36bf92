import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { makePdf } from '../helpers/pdfs.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { freePort } from '../helpers/redis.js';
import { tempDir } from '../helpers/tools.js';

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the request in flight, refuses new connections, and exits 0', async () => {
    const port = await freePort();
    const databaseUrl = await testDatabaseUrl();
    // vitest sets BASE_URL for its own use; the service must not see it.
    const { BASE_URL: _vitestBase, ...env } = process.env;
    // node itself, not a wrapper, so the signal goes straight to the service.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: tempDir('shutdown'), LOG_LEVEL: 'info', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"msg":"listening on')) resolve();
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      void exited.then((code) => reject(new Error(`the service exited with ${code}: ${output}`)));
    });

    const pdf = await makePdf(2);
    const half = Math.floor(pdf.length / 2);
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/verify', headers: { 'content-type': 'application/pdf', 'content-length': pdf.length } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(pdf.subarray(0, half));
      // The rest of the body arrives only after the service was told to stop.
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(pdf.subarray(half)), 300);
      }, 200);
    });

    const answer = await inFlight;
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toHaveProperty('signatures');
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down: finishing requests in flight');
  });
});
