/**
 * HTTP load generator, run in a process of its own so that it does not share the event loop of
 * the server it measures. Reads a JSON plan on stdin (targets, concurrency, seconds per target),
 * drives each target in turn over keep-alive connections, and prints one JSON object per target.
 */
import http from 'node:http';

export interface LoadTarget {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** The request body, base64. */
  body?: string;
}

export interface LoadPlan {
  targets: LoadTarget[];
  concurrency: number;
  seconds: number;
  /** Requests per connection before measuring, so connections are open and code is warm. */
  warmupRequests: number;
}

export interface LoadResult {
  name: string;
  concurrency: number;
  requests: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function send(agent: http.Agent, target: LoadTarget, body: Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(target.url, { method: target.method, agent, headers: { ...target.headers, ...(body ? { 'content-length': body.length } : {}) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function drive(target: LoadTarget, plan: LoadPlan): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency });
  const body = target.body === undefined ? undefined : Buffer.from(target.body, 'base64');
  const ok = async (): Promise<boolean> => {
    try {
      const status = await send(agent, target, body);
      return status >= 200 && status < 300;
    } catch {
      return false;
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, async () => {
    for (let i = 0; i < plan.warmupRequests; i++) await ok();
  }));
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + plan.seconds * 1000;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        if (!(await ok())) errors++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pick = (p: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100;
  return { name: target.name, concurrency: plan.concurrency, requests: latencies.length, errors, perSecond: Math.round((latencies.length / elapsed) * 10_000) / 10, p50Ms: pick(0.5), p99Ms: pick(0.99) };
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const plan = JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoadPlan;
  const results: LoadResult[] = [];
  for (const target of plan.targets) {
    const result = await drive(target, plan);
    process.stderr.write(`  ${result.name}: ${result.perSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.errors} errors\n`);
    results.push(result);
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
