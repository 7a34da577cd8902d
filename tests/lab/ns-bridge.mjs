#!/usr/bin/env node
/**
 * One half of the bridge that lets the test process (root network namespace)
 * reach a TCP port that listens on a lab namespace's own loopback: Firefox's
 * WebDriver BiDi server (`--remote-debugging-port`) binds 127.0.0.1 inside the
 * namespace, which no other namespace can reach.
 *
 *   test process ──TCP 127.0.0.1:P (root ns)──▶ unix socket file ──▶ this
 *   process (inside the ns, `ip netns exec`) ──TCP 127.0.0.1:PORT──▶ Firefox
 *
 * A unix socket bound to a path lives in the filesystem, not in a network
 * namespace, so both sides can open it. The root-side half is a few lines in
 * tests/harness/firefox.ts.
 *
 * Usage: ip netns exec NS node ns-bridge.mjs SOCKET_PATH PORT
 * Prints "ready" once it listens; exits when killed (the lab kills it).
 */
import { createServer, connect } from 'node:net';
import { rmSync } from 'node:fs';

const [socketPath, portText] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: ns-bridge.mjs SOCKET_PATH PORT');
  process.exit(2);
}

rmSync(socketPath, { force: true });
const server = createServer((client) => {
  const upstream = connect(port, '127.0.0.1');
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
});
server.listen(socketPath, () => console.log('ready'));
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    rmSync(socketPath, { force: true });
    process.exit(0);
  });
}
