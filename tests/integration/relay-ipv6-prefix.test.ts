/**
 * Per-source limits key IPv6 by /64 (issue 22, point 5) on the real CLI. The
 * root namespace's loopback holds only ::1, so the test makes a network
 * namespace of its own (unshare -rn: a user namespace, no privilege on the
 * host) where 2001:db8:1:2::/64 and 2001:db8:1:3::/64 are local, and runs
 * tests/harness/ipv6-prefix-probe.ts there: 40 WebSockets from 40 addresses
 * of one /64 share its limit of 8, another /64 still connects, and 40
 * unauthenticated Allocates from one /64 get one burst of answers. Skipped
 * where unshare or ip is not available.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO_ROOT, TSX_LOADER } from '../harness/relay';

const canUnshare = spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!canUnshare)('IPv6 sources limited per /64', () => {
  test('40 addresses of one /64 share one per-IP limit and one unauthenticated bucket; another /64 is apart', () => {
    const setup = [
      'ip link set lo up',
      'ip -6 addr add 2001:db8:1:2::1/64 dev lo nodad',
      'ip -6 route replace local 2001:db8:1:2::/64 dev lo',
      'ip -6 route add local 2001:db8:1:3::/64 dev lo',
      // Clients bind any address of those prefixes (this namespace's setting only).
      'sysctl -qw net.ipv6.ip_nonlocal_bind=1',
      `exec "${process.execPath}" --import ${TSX_LOADER} ${resolve(REPO_ROOT, 'tests/harness/ipv6-prefix-probe.ts')}`,
    ].join(' && ');
    const r = spawnSync('unshare', ['-rn', 'sh', '-c', setup], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    const line = /^RESULT (.*)$/m.exec(r.stdout ?? '')?.[1];
    expect(line, `${r.stdout}\n${r.stderr}`).toBeDefined();
    const out = JSON.parse(line!) as { sameNetChallenged: number; otherNetChallenged: number; unauthAnswered: number };
    expect(out.sameNetChallenged).toBe(8);
    expect(out.otherNetChallenged).toBe(3);
    // --unauth-rate 2: burst 4 per source, the /64 being one source.
    expect(out.unauthAnswered).toBeGreaterThanOrEqual(4);
    expect(out.unauthAnswered).toBeLessThanOrEqual(5);
  }, 90_000);
});
