/**
 * HTTP load generator, run in a process of its own so that it does not share the event loop of
 * the server it measures. Reads a JSON plan on stdin (targets, concurrency, seconds per target),
 * drives each target in turn over keep-alive connections (plain sockets, the request encoded once),
 * and prints one JSON object per target.
 */
import net from 'node:net';

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

/** The whole request, head and body, encoded once and written as it is for every request. */
function encodeRequest(target: LoadTarget): Buffer {
  const url = new URL(target.url);
  const body = target.body === undefined ? Buffer.alloc(0) : Buffer.from(target.body, 'base64');
  const headers: Record<string, string> = { host: url.host, ...target.headers, 'content-length': String(body.length) };
  const head = `${target.method} ${url.pathname}${url.search} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

interface ResponseHead {
  status: number;
  /** Bytes of head and body together, or -1 for a chunked body (read until its last chunk). */
  length: number;
  close: boolean;
}

function parseHead(buffered: Buffer, headEnd: number): ResponseHead {
  const head = buffered.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const contentLength = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
  return { status, length: chunked ? -1 : headEnd + 4 + Number(contentLength?.[1] ?? 0), close: /\r\nconnection:\s*close/i.test(head) };
}

/**
 * One keep-alive connection sending the same request again and again until `deadline`, each
 * answer read to its end (by Content-Length, or to the last chunk). A plain socket rather than
 * node's HTTP client, so the generator spends little of the CPU it shares with the server.
 */
function connection(url: URL, request: Buffer, deadline: () => number, record: (ms: number, ok: boolean) => void): Promise<void> {
  return new Promise((resolve) => {
    let socket: net.Socket;
    let buffered: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    let head: ResponseHead | null = null;
    const sendNext = (): void => {
      if (performance.now() >= deadline()) {
        socket.end();
        resolve();
        return;
      }
      sentAt = performance.now();
      socket.write(request);
    };
    const open = (): void => {
      socket = net.connect(Number(url.port), url.hostname);
      socket.setNoDelay(true);
      socket.on('connect', sendNext);
      socket.on('data', onData);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (performance.now() >= deadline()) return resolve();
        if (sentAt !== 0) record(performance.now() - sentAt, false);
        buffered = Buffer.alloc(0);
        head = null;
        sentAt = 0;
        open();
      });
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        if (!head) {
          const headEnd = buffered.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          head = parseHead(buffered, headEnd);
        }
        const total = head.length >= 0 ? head.length : chunkedEnd(buffered);
        if (total < 0 || buffered.length < total) return;
        const ok = head.status >= 200 && head.status < 300;
        const closing = head.close;
        buffered = buffered.subarray(total);
        head = null;
        record(performance.now() - sentAt, ok);
        sentAt = 0;
        if (closing) {
          socket.destroy();
          return;
        }
        sendNext();
      }
    };
    open();
  });
}

/** Where a chunked response ends (after its last, empty chunk), or -1 while it has not arrived. */
function chunkedEnd(buffered: Buffer): number {
  let at = buffered.indexOf('\r\n\r\n') + 4;
  for (;;) {
    const lineEnd = buffered.indexOf('\r\n', at);
    if (lineEnd < 0) return -1;
    const size = parseInt(buffered.toString('latin1', at, lineEnd), 16);
    const next = lineEnd + 2 + size + 2;
    if (next > buffered.length) return -1;
    if (size === 0) return next;
    at = next;
  }
}

async function drive(target: LoadTarget, plan: LoadPlan): Promise<LoadResult> {
  const url = new URL(target.url);
  const request = encodeRequest(target);
  let warmups = 0;
  const warmupTotal = plan.warmupRequests * plan.concurrency;
  let warmDeadline = Infinity;
  await Promise.all(Array.from({ length: plan.concurrency }, () => connection(url, request, () => warmDeadline, () => {
    if (++warmups >= warmupTotal) warmDeadline = 0;
  })));
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + plan.seconds * 1000;
  await Promise.all(Array.from({ length: plan.concurrency }, () => connection(url, request, () => deadline, (ms, ok) => {
    latencies.push(ms);
    if (!ok) errors++;
  })));
  const elapsed = performance.now() - started;
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
