import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a refused upload's connection is drained before it is cut. */
const LINGER_MS = 2_000;

/**
 * Closes the connection of a request refused before its body was read, once the answer is
 * written, without losing the answer. Cutting the connection at once, with the client's unread
 * body still arriving, makes the kernel send a reset, which can discard the answer before the
 * client reads it (it then sees only ECONNRESET). Instead the server half-closes after the answer
 * and reads, and drops, what still arrives for at most LINGER_MS, then cuts the connection: a
 * refused upload costs at most that much reading, never the whole body.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  const socket = req.socket;
  // After an answer with Connection: close, node's server ends the connection with
  // destroySoon(), which closes it as soon as the answer is written: here it lingers instead.
  socket.destroySoon = () => {
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
    socket.on('error', () => undefined);
    socket.end();
    // The rest of the body goes nowhere: the route stopped listening when it refused.
    req.resume();
  };
}
