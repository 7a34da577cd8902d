/** Free loopback ports for the servers tests and benches start (the kernel picks; the port is released at once). */
import { createServer } from 'node:net';
import dgram from 'node:dgram';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * A port number free on 127.0.0.1 for both TCP and UDP (a STUN/TURN server
 * listens on both), below `below` if given (e.g. outside a relay's port range).
 */
export async function freeTcpUdpPort(below = 65536): Promise<number> {
  for (;;) {
    const p = await freePort();
    const ok = await new Promise<boolean>((r) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => r(false));
      u.bind(p, '127.0.0.1', () => u.close(() => r(true)));
    });
    if (ok && p < below) return p;
  }
}
