/**
 * --max-message holds on the kernel path too (issue 16): with `--offload on`, ChannelData
 * from a client over the bound is neither forwarded by the XDP program nor by userspace
 * (before, the program forwarded up to 1476 bytes whatever the bound). The relay runs in
 * a network namespace this test creates (XDP on that namespace's loopback, generic mode),
 * driven by offload-max-message.fixture.ts inside it. The lab's relay-offload.test.ts
 * covers the rest of the offload.
 */
import { execFile, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT, TSX_LOADER } from '../harness/relay';

const run = promisify(execFile);
const NS = `hush-maxmsg-${process.pid}`;

beforeAll(() => {
  execFileSync('make', ['-s', '-C', resolve(REPO_ROOT, 'relay-server/bpf')], { stdio: 'pipe' });
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
});

afterAll(() => {
  try {
    for (const p of execFileSync('ip', ['netns', 'pids', NS]).toString().trim().split(/\s+/).filter(Boolean)) process.kill(Number(p), 'SIGKILL');
  } catch {
    // namespace gone already
  }
  execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
});

test('offload on, --max-message 600: ChannelData over the bound is dropped, not forwarded by the kernel', async () => {
  const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '--import', TSX_LOADER, resolve(REPO_ROOT, 'tests/integration/offload-max-message.fixture.ts')], {
    cwd: REPO_ROOT,
    timeout: 60_000,
  });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as {
    datapath: string;
    bind: number;
    atPeer: { small: number; over: number; large: number };
    kernelPackets: number;
    userspaceRelayed: number;
    dropped: number;
  };
  expect(r.datapath).toMatch(/^xdp-/);
  expect(r.bind).toBe(0x0100);
  expect(r.atPeer).toEqual({ small: 10, over: 0, large: 0 });
  // The small ones and the marker went through the kernel; the 20 over the bound reached userspace and were dropped there.
  expect(r.kernelPackets).toBe(11);
  expect(r.userspaceRelayed).toBe(0);
  expect(r.dropped).toBe(20);
});
