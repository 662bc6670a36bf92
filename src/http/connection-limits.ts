import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps the connections a server holds: in all (`server.maxConnections`) and per client address,
 * so that one address opening thousands of slow connections cannot exhaust the file descriptors
 * every other client needs. Connections over the cap are closed at once.
 */
export function limitConnections(server: Server, limits: { total: number; perAddress: number }): void {
  server.maxConnections = limits.total;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.perAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
