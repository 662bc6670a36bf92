import { spawn } from 'node:child_process';

/** Too many renderings are waiting: the caller answers 503 and the browser may try again. */
export class FaceRendererBusy extends Error {
  override name = 'FaceRendererBusy';
}

/** The rendering tool is missing or failed on this file. */
export class FaceRenderFailed extends Error {
  override name = 'FaceRenderFailed';
}

export interface FaceRendererOptions {
  /** Pixels of the longer side of the image. */
  sizePx?: number;
  /** How many images are kept, and how many bytes at most. */
  maxEntries?: number;
  maxBytes?: number;
  /** Renderings that may wait for the one running; more are refused. */
  maxWaiting?: number;
  timeoutMs?: number;
  /** The command that renders; `pdftoppm` (poppler-utils) by default. */
  command?: string;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * The first page of an issued licence as a PNG, so a person can hold the paper next to it. Only
 * files the service issued itself are rendered (never an upload), one at a time per process; the
 * images are kept in memory, least recently used first out, since an issued file never changes.
 */
export class LicenseFaceRenderer {
  private readonly cache = new Map<string, Buffer>();
  private cachedBytes = 0;
  private readonly inFlight = new Map<string, Promise<Buffer | undefined>>();
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private readonly sizePx: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly maxWaiting: number;
  private readonly timeoutMs: number;
  private readonly command: string;

  constructor(options: FaceRendererOptions = {}) {
    this.sizePx = options.sizePx ?? 1000;
    this.maxEntries = options.maxEntries ?? 64;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.maxWaiting = options.maxWaiting ?? 8;
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.command = options.command ?? 'pdftoppm';
  }

  /** The image of licence `id`, rendered from `load()`'s PDF on first use; undefined when there is no PDF. */
  async png(id: string, load: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const running = this.inFlight.get(id);
    if (running) return running;
    const task = this.produce(id, load).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, task);
    return task;
  }

  private async produce(id: string, load: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    if (this.waiting >= this.maxWaiting) throw new FaceRendererBusy('too many licence images are being rendered');
    this.waiting++;
    try {
      const pdf = await load();
      if (!pdf) return undefined;
      const rendering = this.queue.then(() => this.render(pdf));
      this.queue = rendering.catch(() => undefined);
      const png = await rendering;
      this.remember(id, png);
      return png;
    } finally {
      this.waiting--;
    }
  }

  private remember(id: string, png: Buffer): void {
    if (png.length > this.maxBytes || this.cache.has(id)) return;
    this.cache.set(id, png);
    this.cachedBytes += png.length;
    for (const [oldest, image] of this.cache) {
      if (this.cache.size <= this.maxEntries && this.cachedBytes <= this.maxBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= image.length;
    }
  }

  private render(pdf: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, ['-png', '-f', '1', '-l', '1', '-scale-to', String(this.sizePx), '-singlefile', '-'], { stdio: ['pipe', 'pipe', 'ignore'], timeout: this.timeoutMs });
      const chunks: Buffer[] = [];
      let bytes = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_OUTPUT_BYTES) child.kill('SIGKILL');
        else chunks.push(chunk);
      });
      child.on('error', (err) => reject(new FaceRenderFailed(`${this.command} could not run: ${err.message}`)));
      child.on('close', (code, signal) => {
        const png = Buffer.concat(chunks);
        if (code === 0 && png.subarray(0, 8).equals(PNG_SIGNATURE)) resolve(png);
        else reject(new FaceRenderFailed(`${this.command} ended with ${signal ?? `exit code ${code}`}`));
      });
      // A tool that exits before reading everything closes the pipe; its exit status decides.
      child.stdin.on('error', () => undefined);
      child.stdin.end(pdf);
    });
  }
}
