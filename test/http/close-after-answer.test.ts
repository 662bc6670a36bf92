/**
 * A refused upload's connection is drained after its answer for a bounded time and a bounded
 * number of bytes, then cut (src/http/close-after-answer.ts).
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAfterAnswer, type Linger } from '../../src/http/close-after-answer.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A server that refuses every request at once with 413, lingering as `linger` says. */
async function refusingServer(linger: Linger): Promise<number> {
  server = createServer((req, res) => {
    closeAfterAnswer(req, res, linger);
    res.statusCode = 413;
    res.end('too large');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * Sends a body of `declared` bytes as fast as the connection takes it, going on after the
 * server's FIN (half-open), as a client busy uploading does. Gives what it wrote and read, and
 * whether the server cut the connection (else the whole body went, and then it waited 500 ms).
 */
function upload(port: number, declared: number): Promise<{ written: number; answer: string; cut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    const received: Buffer[] = [];
    let written = 0;
    let closed = false;
    const done = (cut: boolean): void => {
      socket.destroy();
      resolve({ written, answer: Buffer.concat(received).toString('latin1'), cut });
    };
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!closed) done(true);
      closed = true;
    });
    const send = (): void => {
      while (!closed && written < declared) {
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', send);
      }
      if (closed) return;
      setTimeout(() => {
        closed = true;
        done(false);
      }, 500);
    };
    socket.write(`POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: ${declared}\r\n\r\n`, send);
  });
}

describe('closing a refused upload after its answer', () => {
  it('cuts the connection once about its byte limit has been drained, long before its time limit', async () => {
    const port = await refusingServer({ ms: 120_000, bytes: 256 * 1024 });
    const { written, cut } = await upload(port, 1024 * 1024 * 1024);
    expect(cut).toBe(true);
    // What the client wrote is what the server drained, what it read between two counts, and
    // what the two kernels' buffers held.
    expect(written).toBeLessThan(256 * 1024 * 1024);
  }, 60_000);

  it('drains a body under its limits, so that a client reading late still gets its answer', async () => {
    const port = await refusingServer({ ms: 120_000, bytes: 64 * 1024 * 1024 });
    const { written, answer } = await upload(port, 4 * 1024 * 1024);
    expect(written).toBe(4 * 1024 * 1024);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('too large');
  }, 60_000);
});
