/**
 * How TURN threads share the one UDP port (turn-threads.ts), detected at
 * runtime: SO_REUSEPORT where Node's dgram has `reusePort` (Node 22.12+,
 * 23.1+; Node 24 LTS), else SO_REUSEADDR (Node 20).
 *
 * Both give the same split: the main thread's listener and, per adopted
 * allocation, a thread's socket connected to its client on the same port;
 * Linux delivers a client's datagrams to the connected socket that matches
 * them. The difference is who else may bind the port: with SO_REUSEPORT
 * only a process of the same user (Linux checks the effective uid of every
 * socket in the group), with SO_REUSEADDR any local process that sets it.
 *
 * Why the kernel's own reuseport balancing (a hash of the 4-tuple over one
 * listener per thread) is not used to place allocations: it would scatter
 * one user's allocations over threads, and each thread counts the per-user
 * quota on its own. The username decides the thread; reusePort only shares
 * the port.
 *
 * Detection binds two sockets to one free port of the listen address with
 * `reusePort`: Node versions without the option ignore it and the second
 * bind fails (so does any bind there that fails: then SO_REUSEADDR).
 */
import dgram from 'node:dgram';

export type UdpSharing = 'reuseport' | 'reuseaddr';

/** dgram options that share a bound port the chosen way. */
export function sharingOptions(sharing: UdpSharing): { reuseAddr?: boolean; reusePort?: boolean } {
  return sharing === 'reuseport' ? { reusePort: true } : { reuseAddr: true };
}

function bindOnce(address: string, port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', reusePort: true });
    s.once('error', () => {
      try {
        s.close();
      } catch {
        // never bound
      }
      resolve(undefined);
    });
    s.bind({ port, address, exclusive: true }, () => resolve(s));
  });
}

/** 'reuseport' if this Node binds two UDP sockets to one port of `listen` with `reusePort`. */
export async function detectUdpSharing(listen: string): Promise<UdpSharing> {
  const a = await bindOnce(listen, 0);
  if (!a) return 'reuseaddr';
  const b = await bindOnce(listen, a.address().port);
  a.close();
  b?.close();
  return b ? 'reuseport' : 'reuseaddr';
}
