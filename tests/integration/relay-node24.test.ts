/**
 * The relay on Node 24 LTS (issue 16), the Node its Dockerfile ships, while
 * this machine's own Node may be older: the npm-packaged Node 24 binary
 * (harness/node24.ts) runs the relay from its sources, with two TURN threads
 * sharing the port through SO_REUSEPORT (Node 24's dgram `reusePort`,
 * detected at start: net/udp-sharing.ts), and coturn's uclient relays
 * through it with no loss, its clients on both threads.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { node24 } from '../harness/node24';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { scrapeMetrics } from '../harness/metrics';
import { runUclient } from '../harness/uclient';
import { waitFor } from '../harness/wait';

const SECRET = 'node24-test-secret';
let node: string;
let relay: RelayProcess;

beforeAll(async () => {
  node = node24();
  relay = await startRelayProcess(['--auth-secret', SECRET, '--allow-peer', '127.0.0.0/8', '--threads', '2'], { node });
}, 360_000);
afterAll(async () => {
  await relay?.stop();
});

test('runs on Node 24 and shares the TURN port with SO_REUSEPORT', () => {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  expect(version).toMatch(/^v24\./);
  expect(relay.output()).toContain(`starting on Node ${version} `);
  expect(relay.output()).toMatch(/^TURN threads: 2 on port \d+ \(UDP allocations spread by username; port shared with SO_REUSEPORT\)$/m);
});

test('uclient users on both threads relay with no loss', async () => {
  // Users hash to threads by name: these eight land on both (checked below in /metrics).
  const runs = await Promise.all(
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      runUclient(['-c', '-y', '-W', SECRET, '-u', `node24user${i}`, '-m', '2', '-n', '30', '-z', '10', '-p', String(relay.turnPort), '127.0.0.1']),
    ),
  );
  for (const r of runs) {
    expect(r.sent, r.output).toBe(60);
    expect(r.lost, r.output).toBe(0);
  }
  const perThread = await waitFor(
    async () => {
      const m = await scrapeMetrics(`http://127.0.0.1:${relay.signalPort}`);
      const t = Object.keys(m).filter((k) => k.startsWith('hush_relay_thread_allocations_created_total{')).sort().map((k) => m[k]!);
      return t.length === 2 && t.every((n) => n > 0) && t;
    },
    { timeout: 5_000, interval: 100, what: 'allocations on both threads in /metrics' },
  );
  expect(perThread.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(16);
});

test('stops cleanly', async () => {
  await relay.stop();
  expect(relay.output()).toMatch(/^final: allocations \d+ /m);
});
