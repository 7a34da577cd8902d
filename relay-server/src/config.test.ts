import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, helpText, loadConfig, turnThreadCount } from './config';
import { RelayError } from './errors';

const dir = mkdtempSync(join(tmpdir(), 'hush-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cfg(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const r = loadConfig(argv, env);
  if (r.help) throw new Error('help');
  return r.config;
}

describe('config', () => {
  test('no arguments: safe local defaults', () => {
    expect(cfg([])).toEqual({ ...DEFAULTS, altPort: 3479 });
    expect(DEFAULTS.listen).toBe('127.0.0.1');
    expect(DEFAULTS.allowPeer).toEqual([]);
  });

  test('file < env < command line; --allow-peer repeats', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 4000, realm: 'file', allowPeer: ['10.0.0.0/8'], userQuota: 3 }));
    const c = cfg(['--config', file, '--realm', 'cli', '--allow-peer', '127.0.0.0/8', '--allow-peer', '::1'], { HUSH_RELAY_REALM: 'env', HUSH_RELAY_USER_QUOTA: '5' });
    expect(c.port).toBe(4000);
    expect(c.altPort).toBe(4001);
    expect(c.realm).toBe('cli');
    expect(c.userQuota).toBe(5);
    expect(c.allowPeer).toEqual(['127.0.0.0/8', '::1']);
  });

  test('--port 0 makes the alternate port any free port too; "off" turns things off', () => {
    expect(cfg(['--port', '0']).altPort).toBe(0);
    expect(cfg(['--alt-port', 'off', '--signal-port', 'off']).altPort).toBeNull();
  });

  test('errors are ERR_CONFIG with a sentence', () => {
    const bad = [['--port', '70000'], ['--listen', 'example.com'], ['--allow-peer', '10.0.0.0/33'], ['--tls-cert', 'x'], ['--nope'], ['--auth-secret', 'short']];
    for (const argv of bad) {
      try {
        loadConfig(argv, {});
        throw new Error(`accepted ${argv.join(' ')}`);
      } catch (e) {
        expect(e).toBeInstanceOf(RelayError);
        expect((e as RelayError).code).toBe('ERR_CONFIG');
      }
    }
  });

  test('secrets: --auth-secret repeats (first signs), one from env or file; or a secrets file, not both', () => {
    expect(cfg(['--auth-secret', 'new-secret', '--auth-secret', 'old-secret']).authSecret).toEqual(['new-secret', 'old-secret']);
    // A secret that starts with '-' (base64url does, one time in 64) goes in one argument; as two, a clear error.
    expect(cfg(['--auth-secret=-dash-first-secret']).authSecret).toEqual(['-dash-first-secret']);
    expect(() => cfg(['--auth-secret', '-dash-first-secret'])).toThrow(/--auth-secret=-XYZ/);
    expect(cfg([], { HUSH_RELAY_AUTH_SECRET: 'env-secret' }).authSecret).toEqual(['env-secret']);
    const file = join(dir, 's.json');
    writeFileSync(file, JSON.stringify({ authSecret: ['a-secret-1', 'a-secret-2'] }));
    expect(cfg(['--config', file]).authSecret).toEqual(['a-secret-1', 'a-secret-2']);
    expect(cfg(['--auth-secrets-file', '/etc/hush/turn-secrets']).authSecretsFile).toBe('/etc/hush/turn-secrets');
    expect(() => cfg(['--auth-secret', 'new-secret', '--auth-secrets-file', '/x'])).toThrow(/not both/);
  });

  test('drain timeout is bounded; redis URL and node id are checked', () => {
    expect(DEFAULTS.drainTimeout).toBe(30);
    expect(cfg(['--drain-timeout', '600']).drainTimeout).toBe(600);
    expect(() => cfg(['--drain-timeout', '601'])).toThrow(/at most 600/);
    expect(cfg(['--redis', 'redis://10.0.0.5:6379', '--node-id', 'relay-2.eu']).redis).toBe('redis://10.0.0.5:6379');
    for (const bad of [['--redis', 'http://x:6379'], ['--redis', 'nonsense'], ['--node-id', 'a b'], ['--node-id', 'x|y']]) expect(() => cfg(bad)).toThrow(RelayError);
    expect(cfg(['--metrics-port', '9100']).metricsPort).toBe(9100);
    expect(cfg([]).metricsPort).toBeNull();
  });

  test('--help documents every flag with its file key and env name', () => {
    expect(loadConfig(['--help'], {})).toEqual({ help: true });
    const h = helpText();
    for (const f of ['--listen', '--port', '--tls-port', '--signal-port', '--auth-secret', '--auth-secrets-file', '--realm', '--allow-peer', '--config', '--drain-timeout', '--metrics-port', '--redis', '--node-id', 'HUSH_RELAY_AUTH_SECRET', '"authSecret"', 'HUSH_RELAY_REDIS']) expect(h).toContain(f);
  });
});

describe('config errors an operator can act on (issue 20)', () => {
  const bad = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      loadConfig(argv, env);
    } catch (e) {
      expect(e).toBeInstanceOf(RelayError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  test('JSON errors name the file, the line and the column', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "port": 3478\n  "realm": "x"\n}\n');
    expect(bad(['--config', file])).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}: not valid JSON: .*line 3 column 3`));
  });

  test('a missing config file: its path and ENOENT explained', () => {
    expect(bad(['--config', join(dir, 'nope.json')])).toBe(`cannot read the config file ${join(dir, 'nope.json')}: ENOENT (no such file)`);
  });

  test('a bad value in the file is named by its key and the file, not by a flag; unknown keys get a suggestion', () => {
    const file = join(dir, 'badkey.json');
    writeFileSync(file, JSON.stringify({ userQuota: 'ten' }));
    expect(bad(['--config', file])).toBe(`"userQuota" in ${file} must be a non-negative integer, got "ten"`);
    writeFileSync(file, JSON.stringify({ 'tls-port': 443 }));
    expect(bad(['--config', file])).toMatch(/unknown key "tls-port" \(did you mean "tlsPort"\?\)/);
    expect(bad([], { HUSH_RELAY_PORT: 'x' })).toMatch(/^HUSH_RELAY_PORT must be/);
  });

  test('tlsPort == signalPort with a certificate: explained', () => {
    expect(bad(['--tls-cert', 'c', '--tls-key', 'k', '--tls-port', '443', '--signal-port', '443'])).toMatch(/cannot share one TCP port on one address; move signalling/);
  });

  test('--log-format and --metrics-token are checked', () => {
    expect(bad(['--log-format', 'xml'])).toMatch(/"text", "json" or "plain"/);
    expect(bad(['--metrics-token', 'short'])).toMatch(/at least 16 characters/);
    expect(cfg(['--log-format', 'json']).logFormat).toBe('json');
  });
});

describe('checks across settings from a file name the file keys too', () => {
  test('minPort/maxPort from a file', () => {
    const file = join(dir, 'range.json');
    writeFileSync(file, JSON.stringify({ minPort: 50000, maxPort: 50004 }));
    expect(() => loadConfig(['--config', file], {})).toThrow('--min-port ("minPort")/--max-port ("maxPort") range is too small');
  });

  test('--threads: default 0 is one TURN thread per core; 1-64 as given; beyond refused', () => {
    expect(cfg([]).threads).toBe(0);
    expect(turnThreadCount(0, 2)).toBe(2);
    expect(turnThreadCount(0, 1)).toBe(1);
    expect(turnThreadCount(0, 200)).toBe(64);
    expect(turnThreadCount(3, 2)).toBe(3);
    expect(cfg(['--threads', '4']).threads).toBe(4);
    expect(() => cfg(['--threads', '65'])).toThrow(/--threads must be 0-64/);
    expect(() => cfg(['--threads', '-1'])).toThrow(/--threads must be 0-64|threads/);
  });
});
