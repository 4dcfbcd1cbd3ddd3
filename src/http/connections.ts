import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * At most `perAddress` open connections from one client address (IPv6 by prefix: `keyOf`), refused at accept
 * like the global KUPE_MAX_CONNECTIONS: one address holding slow connections open cannot take every slot.
 * Node's http server runs its own 'connection' listener first, so this one closes a socket it has adopted.
 */
export function capConnectionsPerAddress(
  server: Server, perAddress: number, keyOf: (ip: string) => string, onRefused: () => void,
): void {
  if (perAddress <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = keyOf(socket.remoteAddress ?? '');
    const count = open.get(key) ?? 0;
    if (count >= perAddress) {
      onRefused();
      socket.destroy();
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
}
