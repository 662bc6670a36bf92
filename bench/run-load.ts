import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadPlan, LoadResult } from './http-load.js';

/** Runs the load generator (bench/http-load.ts) in a child process; the caller keeps serving meanwhile. */
export async function runLoad(plan: LoadPlan): Promise<LoadResult[]> {
  const script = fileURLToPath(new URL('./http-load.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stdin.end(JSON.stringify(plan));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  return JSON.parse(Buffer.concat(out).toString('utf8')) as LoadResult[];
}
