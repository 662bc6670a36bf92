import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long, and how much, a refused upload's connection is drained before it is cut. */
export interface Linger {
  ms: number;
  bytes: number;
}

/** Far more than a client that reads its answer late has in flight, far less than a fast client sends in the time. */
const LINGER: Linger = { ms: 2_000, bytes: 8 * 1024 * 1024 };

/**
 * How often the bytes drained are counted. Node's HTTP parser reads the socket itself, so the
 * body dropped after the answer is seen by no listener: only the socket's byte count shows it.
 * On loopback a client sends about 1.5 GB/s, so the count overshoots by some 15 MB at most.
 */
const COUNT_EVERY_MS = 10;

/**
 * Closes the connection of a request refused before its body was read, once the answer is
 * written, without losing the answer. Cutting the connection at once, with the client's unread
 * body still arriving, makes the kernel send a reset, which can discard the answer before the
 * client reads it (it then sees only ECONNRESET). Instead the server half-closes after the answer
 * and reads, and drops, what still arrives for at most `linger.ms`, or until about
 * `linger.bytes` more have arrived, then cuts the connection: a refused upload costs at most that
 * much reading, never the whole body.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, linger: Linger = LINGER): void {
  res.setHeader('Connection', 'close');
  const socket = req.socket;
  // After an answer with Connection: close, node's server ends the connection with
  // destroySoon(), which closes it as soon as the answer is written: here it lingers instead.
  socket.destroySoon = () => {
    const cut = setTimeout(() => socket.destroy(), linger.ms);
    const readBefore = socket.bytesRead;
    const count = setInterval(() => {
      if (socket.bytesRead - readBefore > linger.bytes) socket.destroy();
    }, COUNT_EVERY_MS);
    cut.unref();
    count.unref();
    socket.once('close', () => {
      clearTimeout(cut);
      clearInterval(count);
    });
    socket.on('error', () => undefined);
    socket.end();
    // The rest of the body goes nowhere: the route stopped listening when it refused.
    req.resume();
  };
}
