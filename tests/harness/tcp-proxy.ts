/**
 * One address in front of several relay nodes, as an operator's load balancer
 * (or one DNS name) puts a cluster behind one URL: each new TCP connection
 * goes to the first backend in the list that accepts it. Since signalling v2
 * (issue 15) a mailbox is per relay URL, so the nodes of one deployment share
 * one URL (`--signal-url`) and the clients list only that one.
 *
 * `setBackends` is the balancer's rotation: a test takes a node out (its
 * /healthz said draining, or it died) the way a health check would.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** The backends new connections go to, in order of preference. */
  setBackends(ports: number[]): void;
  /** Open client connections per backend port. */
  active(): Map<number, number>;
  close(): Promise<void>;
}

export async function startTcpProxy(backends: number[], host = '127.0.0.1'): Promise<TcpProxy> {
  let order = [...backends];
  const live = new Map<net.Socket, number>();
  const sockets = new Set<net.Socket>();
  const connectTo = (client: net.Socket, i: number, list: number[]): void => {
    if (i >= list.length) {
      client.destroy();
      return;
    }
    const port = list[i]!;
    const upstream = net.connect({ host, port });
    sockets.add(upstream);
    upstream.once('error', () => {
      sockets.delete(upstream);
      if (!live.has(client)) connectTo(client, i + 1, list); // refused: the next backend
      else client.destroy();
    });
    upstream.once('connect', () => {
      live.set(client, port);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once('close', () => {
      sockets.delete(upstream);
      if (live.has(client)) client.destroy();
    });
    client.once('close', () => {
      live.delete(client);
      upstream.destroy();
    });
  };
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    connectTo(client, 0, [...order]);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, host, () => ok());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    setBackends(ports) {
      order = [...ports];
    },
    active() {
      const m = new Map<number, number>();
      for (const p of live.values()) m.set(p, (m.get(p) ?? 0) + 1);
      return m;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
