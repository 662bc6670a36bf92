/**
 * The production runtime: the compiled JavaScript (what `npm start`, the container and the bin
 * entries run) starts, answers with the configured keep-alive, shuts down cleanly on SIGTERM,
 * and the compiled CLIs work. Built here into a folder beside src/ (so templates/ and policies/
 * resolve as they do from dist/), never into dist/ itself.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../helpers/pdfs.js';
import { freePort } from '../helpers/redis.js';
import { tempDir, writeTemp } from '../helpers/tools.js';

const outDir = path.resolve(`.dist-test-${process.pid}`);
let child: ChildProcess | undefined;
let output = '';
const serverOutput = (): string => output;

beforeAll(() => {
  execFileSync(path.resolve('node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', outDir], { stdio: 'pipe' });
}, 120_000);
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(outDir, { recursive: true, force: true });
});

/** Starts the compiled server on a free port and resolves with its URL once it listens. */
async function startCompiled(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [path.join(outDir, 'server.js')], {
      env: { ...process.env, PORT: String(port), BASE_URL: `http://127.0.0.1:${port}`, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the compiled server exited (${code}): ${output.slice(-2000)}`)));
  });
}

/** A GET with a keep-alive connection, and the server's Keep-Alive answer. */
function keepAliveGet(url: string): Promise<{ status: number | undefined; keepAlive: string }> {
  const agent = new Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        agent.destroy();
        resolve({ status: res.statusCode, keepAlive: [res.headers['keep-alive'] ?? []].flat().join(', ') });
      });
    }).on('error', reject);
  });
}

describe('the compiled service', () => {
  it('starts on its embedded default, keeps connections alive 65 s, verifies with the compiled CLI, and exits 0 on SIGTERM', async () => {
    const dataDir = tempDir('compiled');
    const url = await startCompiled({ DATA_DIR: dataDir });
    const serviceEnv = { PORT: new URL(url).port, BASE_URL: url };
    // the all-roles development token is written to its file, never to the output
    const token = (await import('node:fs')).readFileSync(path.join(dataDir, 'dev-api-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThan(20);
    expect(serverOutput()).toContain('dev-api-token');
    expect(serverOutput()).not.toContain(token);
    // fetch asks every server to close (test/helpers/no-keep-alive.ts): a client that keeps alive
    const health = await keepAliveGet(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.keepAlive).toMatch(/timeout=65/);

    const pdf = writeTemp('compiled.pdf', await makePdf(1));
    const cli = (args: string[]): { status: number | null; stdout: string } => {
      try {
        return { status: 0, stdout: execFileSync(process.execPath, [path.join(outDir, 'cli', 'verify.js'), ...args], { encoding: 'utf8', stdio: 'pipe' }) };
      } catch (err) {
        const e = err as { status: number | null; stdout: string };
        return { status: e.status, stdout: e.stdout };
      }
    };
    expect(cli(['--help']).status).toBe(0);
    const unsigned = cli(['--json', pdf]);
    expect(JSON.parse(unsigned.stdout)).toMatchObject({ document: { signatures: 0 } });
    const admin = spawnSync(process.execPath, [path.join(outDir, 'cli', 'admin.js'), 'clients', 'list'], { encoding: 'utf8', env: { ...process.env, ...serviceEnv, DATA_DIR: dataDir, LOG_LEVEL: 'silent' } });
    expect(admin.status, admin.stderr).toBe(0);
    expect(admin.stdout).toMatch(/development/i);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  });

  it('runs WORKERS processes on one port that seal and verify in their PDF threads, replaces one that dies, and drains all on SIGTERM', async () => {
    const dataDir = tempDir('cluster');
    const url = await startCompiled({ DATA_DIR: dataDir, WORKERS: '2' });
    const token = (await import('node:fs')).readFileSync(path.join(dataDir, 'dev-api-token'), 'utf8').trim();
    const listeningPids = (): number[] => [...new Set(logLines().filter((l) => /^listening on/.test(String(l.msg))).map((l) => Number(l.pid)))];
    await until('both workers listen', () => listeningPids().length === 2);

    const pdf = await makePdf(1);
    // A new connection per request, so the primary hands requests to both workers.
    const seal = (): Promise<Response> =>
      fetch(`${url}/v1/seal?sealId=scjg-official`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf', connection: 'close' }, body: new Uint8Array(pdf) });
    const sealed = await Promise.all(Array.from({ length: 8 }, seal));
    expect(sealed.map((r) => r.status)).toEqual(Array(8).fill(200));
    const one = Buffer.from(await sealed[0]!.arrayBuffer());
    const verified = await fetch(`${url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf', connection: 'close' }, body: new Uint8Array(one) });
    const report = (await verified.json()) as { signatures: Array<{ indication: string }> };
    expect(report.signatures.map((s) => s.indication)).toEqual(['TOTAL_PASSED']);
    // The service writes its log in blocks, up to a quarter of a second late (src/logging.ts).
    const sealingLogs = (): Array<Record<string, unknown>> => logLines().filter((l) => l.msg === 'request' && l.path === '/v1/seal');
    await until('the eight sealings are logged', () => sealingLogs().length === 8);
    expect(new Set(sealingLogs().map((l) => Number(l.pid))).size).toBe(2);

    // Both processes appended to one audit chain, and it is unbroken.
    const audit = spawnSync(process.execPath, [path.join(outDir, 'cli', 'admin.js'), 'audit', 'verify'], { encoding: 'utf8', env: { ...process.env, BASE_URL: url, PORT: new URL(url).port, DATA_DIR: dataDir, LOG_LEVEL: 'silent' } });
    expect(audit.status, audit.stderr + audit.stdout).toBe(0);

    const [victim] = listeningPids();
    process.kill(victim!, 'SIGKILL');
    await until('a replacement worker listens', () => listeningPids().length === 3);
    expect((await seal()).status).toBe(200);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
    for (const pid of listeningPids()) expect(() => process.kill(pid, 0)).toThrow();
  });
});

/** The server's JSON log lines so far, whole lines only (a read may end inside one). */
function logLines(): Array<Record<string, unknown>> {
  const output = serverOutput();
  return output
    .slice(0, output.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting until ${what}: ${serverOutput().slice(-2000)}`);
}
