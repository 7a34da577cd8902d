/**
 * `npm run bench -- udp-socket-memory`: what one bound Node dgram socket
 * costs, the floor under hush-relay's memory per allocation (one relay
 * socket per allocation, two for an allocation a TURN thread holds:
 * docs/relay.md, "Memory per allocation"). A fresh Node with --expose-gc
 * binds sockets on loopback in steps of STEP (HUSH_BENCH_SOCKET_STEP, 4 000),
 * each with a 'message' listener, and after a full GC prints per socket:
 * RSS, V8 heap in use, V8 heap physical size, and RSS minus the heap's
 * physical size (native: the UDPWrap, libuv's handle, malloc's share).
 * The first step carries one-off growth; read the later ones.
 */
import { spawnSync } from 'node:child_process';

const STEP = Number(process.env.HUSH_BENCH_SOCKET_STEP ?? 4000);
const STEPS = 4;

const child = `
const dgram = require('node:dgram');
const v8 = require('node:v8');
const { once } = require('node:events');
const socks = [];
const read = async () => {
  gc(); gc();
  await new Promise((r) => setTimeout(r, 1500));
  gc();
  const h = v8.getHeapStatistics();
  return { rss: process.memoryUsage.rss(), heap: h.used_heap_size, phys: h.total_physical_size };
};
(async () => {
  const pts = [await read()];
  for (let k = 0; k < ${STEPS}; k++) {
    for (let i = 0; i < ${STEP}; i++) {
      // A port the kernel picks can be in use by the time it binds (a shared machine): another socket.
      for (;;) {
        const s = dgram.createSocket('udp4');
        const l = once(s, 'listening');
        s.bind(0, '127.0.0.1');
        try {
          await l;
        } catch {
          s.close();
          continue;
        }
        s.on('message', () => {});
        socks.push(s);
        break;
      }
    }
    pts.push(await read());
  }
  console.log(JSON.stringify(pts));
  process.exit(0);
})();
`;

export async function run(): Promise<void> {
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', child], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    console.log(`skipped: the socket child failed (${r.status}): ${r.stderr.trim().split('\n').at(-1) ?? ''} (it needs ${STEP * STEPS} file descriptors)`);
    return;
  }
  const pts = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Array<{ rss: number; heap: number; phys: number }>;
  console.log(`Node ${process.version}, bound udp4 sockets on loopback with a 'message' listener, per socket after a full GC:`);
  console.log('sockets            RSS B   heap used B   heap physical B   native (RSS - physical) B');
  for (let k = 1; k < pts.length; k++) {
    const d = (f: 'rss' | 'heap' | 'phys') => (pts[k]![f] - pts[k - 1]![f]) / STEP;
    console.log(
      `${`${(k - 1) * STEP}→${k * STEP}`.padEnd(14)} ${d('rss').toFixed(0).padStart(9)} ${d('heap').toFixed(0).padStart(13)} ${d('phys').toFixed(0).padStart(17)} ${(d('rss') - d('phys')).toFixed(0).padStart(27)}`,
    );
  }
}
