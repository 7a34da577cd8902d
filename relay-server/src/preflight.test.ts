/**
 * Preflight (issue 20): what a start refuses and what it warns about, with
 * the host's facts given by the test (addresses, open-file limit, low-port
 * capability) so each case is exact; the files are real ones in a temp dir.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, type RelayConfig } from './config';
import { fdBudget, looksLikePlaceholder, preflight, type HostFacts } from './preflight';

const dir = mkdtempSync(join(tmpdir(), 'hush-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const host = (over: Partial<HostFacts> = {}): HostFacts => ({
  addresses: () => ['127.0.0.1', '::1', '10.1.2.3'],
  openFileLimit: () => 65536,
  canBindLowPort: () => false,
  nonlocalBind: () => false,
  now: () => Date.parse('2026-12-01T00:00:00Z'),
  ...over,
});
const cfg = (c: Partial<RelayConfig> = {}): RelayConfig => ({ ...DEFAULTS, altPort: 3479, ...c });
const texts = (c: Partial<RelayConfig>, h = host()) => preflight(cfg(c), h).map((f) => `${f.level}: ${f.text}`);

describe('preflight', () => {
  test('defaults on a host with a high limit: nothing to say but the random secret', () => {
    expect(texts({}).filter((t) => !t.startsWith('info'))).toEqual([]);
  });

  test('--relay-ip not on this host: refused, naming the key and the host addresses; nonlocal_bind turns it into a warning', () => {
    const t = texts({ relayIp: '203.0.113.9' });
    expect(t).toContainEqual(expect.stringMatching(/^error: "relayIp" 203\.0\.113\.9 is not an address of this host.*10\.1\.2\.3.*externalIp/));
    expect(texts({ relayIp: '10.1.2.3', listen: '0.0.0.0' }).filter((x) => x.startsWith('error'))).toEqual([]);
    expect(texts({ relayIp: '192.168.77.1' }, host({ nonlocalBind: () => true })).some((x) => x.startsWith('warn: "relayIp"'))).toBe(true);
    expect(texts({ listen: '127.0.0.5' }).filter((x) => x.startsWith('error'))).toEqual([]); // all of 127/8 is local
  });

  test('open-file limit below the quotas: a warning with the figures (Debian default 1024 < default quotas)', () => {
    const t = texts({ threads: 1 }, host({ openFileLimit: () => 1024 }));
    expect(fdBudget(cfg({ threads: 1 }))).toBe(2000 + 10000 + 256);
    // The default, one TURN thread per core: each thread has the total quota.
    expect(fdBudget(cfg())).toBe(2000 * availableParallelism() + 10000 + 256);
    expect(t).toContainEqual(expect.stringMatching(/^warn: open-file limit 1024 is below .* \(12256: totalQuota 2000 × threads 1 \+ maxSignalConnections 10000 \+ 256\).*LimitNOFILE/));
  });

  test('TLS and secrets files: named by key and path, with the errno explained', () => {
    const cert = join(dir, 'missing.pem');
    const t = texts({ tlsCert: cert, tlsKey: join(dir, 'k.pem') });
    expect(t).toContainEqual(`error: TLS certificate ("tlsCert") ${cert}: ENOENT (no such file)`);
    const secrets = join(dir, 'secrets');
    writeFileSync(secrets, '# only a comment\n');
    expect(texts({ authSecretsFile: secrets })).toContainEqual(expect.stringMatching(/^error: TURN secrets file \("authSecretsFile"\) .* holds no secret/));
    writeFileSync(secrets, 'REPLACE-ME-with-a-long-random-secret\n');
    expect(texts({ authSecretsFile: secrets })).toContainEqual(expect.stringMatching(/^warn: a TURN secret looks like a placeholder/));
    if (process.getuid?.() !== 0) {
      chmodSync(secrets, 0o000);
      expect(texts({ authSecretsFile: secrets })).toContainEqual(expect.stringMatching(/EACCES \(permission denied/));
    }
  });

  test('placeholders and example values left from relay.json.example', () => {
    expect(looksLikePlaceholder('REPLACE-ME-with-a-long-random-secret')).toBe(true);
    expect(looksLikePlaceholder('changeme')).toBe(true);
    expect(looksLikePlaceholder('Zk3q9vUu0V2n8pQ4dW1xY7rT5sA6bC3e')).toBe(false);
    const t = texts({ externalIp: '198.51.100.20', publicHost: 'relay.example.org', authSecret: ['example-secret-1'] });
    expect(t).toContainEqual(expect.stringMatching(/^warn: "externalIp" 198\.51\.100\.20 is in a documentation range/));
    expect(t).toContainEqual(expect.stringMatching(/^warn: "publicHost" relay\.example\.org is an example name/));
    expect(t).toContainEqual(expect.stringMatching(/^warn: a TURN secret looks like a placeholder/));
  });

  test('a port below 1024 without CAP_NET_BIND_SERVICE: refused with the three ways out', () => {
    const t = texts({ signalPort: 443 });
    expect(t).toContainEqual(expect.stringMatching(/^error: "signalPort" 443 is below 1024 .*CAP_NET_BIND_SERVICE.*ip_unprivileged_port_start=443/));
    expect(texts({ signalPort: 443 }, host({ canBindLowPort: () => true })).filter((x) => x.startsWith('error'))).toEqual([]);
  });

  test('/metrics on a public address without a token: a warning', () => {
    expect(texts({ metricsPort: 9478, metricsListen: '0.0.0.0' })).toContainEqual(expect.stringMatching(/^warn: \/metrics on "metricsListen" 0\.0\.0\.0/));
    expect(texts({ metricsPort: 9478, metricsListen: '10.1.2.3' }).filter((x) => x.startsWith('warn'))).toEqual([]);
    expect(texts({ metricsPort: 9478, metricsListen: '0.0.0.0', metricsToken: 'Zk3q9vUu0V2n8pQ4dW1x' }).filter((x) => x.startsWith('warn'))).toEqual([]);
  });
});
