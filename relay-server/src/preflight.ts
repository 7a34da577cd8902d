/**
 * Preflight: everything a start would trip over, checked before any socket
 * is opened, for both a start and `hush-relay --check-config FILE`. Each
 * finding is a sentence an operator can act on (issue 20, "fails loud,
 * never silent"):
 *
 *  - error (a start refuses): an address to bind that is not on this host
 *    (--relay-ip elsewhere made every Allocate fail 508 with no log line);
 *    TLS files or the secrets file unreadable (named by path, with the errno
 *    and what it means) or not a matching PEM pair; a port below 1024
 *    without CAP_NET_BIND_SERVICE.
 *  - warn (it starts): placeholder secrets or tokens, documentation-range
 *    addresses (RFC 5737, RFC 3849) and example.* host names left from the
 *    sample config, an open-file limit below what the quotas can use (one
 *    descriptor per allocation, one per connection), a certificate expired
 *    or near expiry, /metrics on a non-private address without a token.
 *
 * Reads only local files and the interface list; says nothing about any
 * client. The host's own addresses are the relay's own, fine to print.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createSecureContext } from 'node:tls';
import { fileErrorText, turnThreadCount, type RelayConfig } from './config';
import { parseIp } from './ip';
import { cidrContains, parseCidr } from './turn/cidr';

export interface Finding {
  level: 'error' | 'warn' | 'info';
  text: string;
}

/** What the checks read from the system; tests give their own. */
export interface HostFacts {
  /** Addresses of this host's interfaces, or null when they cannot be listed. */
  addresses(): string[] | null;
  /** Soft open-file limit, or null if unknown. */
  openFileLimit(): number | null;
  /** May this process bind a port below 1024? */
  canBindLowPort(port: number): boolean;
  /** net.ipv4.ip_nonlocal_bind is on (binding an address not on this host is allowed). */
  nonlocalBind(): boolean;
  now(): number;
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The soft "Max open files" of this process (Linux /proc), or null. */
export function openFileLimit(): number | null {
  const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(readProc('/proc/self/limits') ?? '');
  if (!m) return null;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

export const SYSTEM: HostFacts = {
  addresses() {
    try {
      return Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address));
    } catch {
      return null;
    }
  },
  openFileLimit,
  canBindLowPort(port) {
    const cap = /^CapEff:\s+([0-9a-f]+)$/m.exec(readProc('/proc/self/status') ?? '');
    if (cap && (BigInt('0x' + cap[1]) >> 10n) & 1n) return true; // CAP_NET_BIND_SERVICE
    const start = Number((readProc('/proc/sys/net/ipv4/ip_unprivileged_port_start') ?? '1024').trim());
    return port >= start;
  },
  nonlocalBind() {
    return (readProc('/proc/sys/net/ipv4/ip_nonlocal_bind') ?? '0').trim() === '1';
  },
  now: () => Date.now(),
};

/** Documentation ranges: addresses that exist only in examples (RFC 5737, RFC 3849). */
const DOC_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'].map((c) => parseCidr(c)!);
const PRIVATE_RANGES = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'].map((c) => parseCidr(c)!);

function inRanges(ip: string, ranges: typeof DOC_RANGES): boolean {
  const b = parseIp(ip);
  return !!b && ranges.some((r) => cidrContains(r, b));
}

const isWildcard = (ip: string) => ip === '0.0.0.0' || ip === '::';

/** A secret or token copied from an example rather than made (REPLACE-ME, changeme, example…). */
export function looksLikePlaceholder(s: string): boolean {
  return /replace|change-?me|example|placeholder|your[-_ ]?secret|^secret$|^password$|xxxx|^(.)\1+$/i.test(s);
}

/** Read a file the relay needs, or an error finding naming it, its path and the errno. */
function readNamed(what: string, key: string, path: string, out: Finding[]): Buffer | null {
  try {
    return readFileSync(path);
  } catch (e) {
    out.push({ level: 'error', text: `${what} ("${key}") ${path}: ${fileErrorText(e)}` });
    return null;
  }
}

/** The TURN secrets in a secrets file (the format relay.ts reads), for the placeholder check. */
function secretsIn(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** Descriptors the configured quotas can use: one UDP socket per allocation, one per connection, and a margin. */
export function fdBudget(cfg: RelayConfig): number {
  return cfg.totalQuota * turnThreadCount(cfg.threads) + cfg.maxSignalConnections + 256;
}

export function preflight(cfg: RelayConfig, host: HostFacts = SYSTEM): Finding[] {
  const out: Finding[] = [];
  const err = (text: string) => out.push({ level: 'error', text });
  const warn = (text: string) => out.push({ level: 'warn', text });

  // Addresses to bind must be this host's: elsewhere every bind fails (EADDRNOTAVAIL).
  const local = host.addresses();
  if (local) {
    const here = new Set(local.map((a) => a.replace(/%.*$/, '')));
    const isLocal = (ip: string) => isWildcard(ip) || here.has(ip) || inRanges(ip, [parseCidr('127.0.0.0/8')!]);
    const binds: Array<[string, string | null]> = [
      ['listen', cfg.listen],
      ['signalListen', cfg.signalPort === null ? null : cfg.signalListen],
      ['relayIp', cfg.relayIp],
      ['metricsListen', cfg.metricsPort === null ? null : cfg.metricsListen],
    ];
    for (const [key, ip] of binds) {
      if (ip === null || isLocal(ip)) continue;
      const hint = key === 'relayIp' ? ' Behind 1:1 NAT, bind a local address (or leave relayIp unset) and put the public one in "externalIp".' : '';
      const list = [...here].filter((a) => !a.startsWith('fe80')).join(', ');
      if (host.nonlocalBind()) warn(`"${key}" ${ip} is not an address of this host (net.ipv4.ip_nonlocal_bind is on, so binding it works); addresses here: ${list}`);
      else err(`"${key}" ${ip} is not an address of this host, so nothing can bind it; addresses here: ${list}.${hint}`);
    }
  }

  // TLS: both files readable, a PEM pair that belongs together, not expired.
  if (cfg.tlsCert && cfg.tlsKey) {
    const cert = readNamed('TLS certificate', 'tlsCert', cfg.tlsCert, out);
    const key = readNamed('TLS key', 'tlsKey', cfg.tlsKey, out);
    if (cert && key) {
      try {
        createSecureContext({ cert, key });
        const x = new X509Certificate(cert);
        const left = (Date.parse(x.validTo) - host.now()) / 86_400_000;
        if (left < 0) warn(`TLS certificate ${cfg.tlsCert} expired on ${new Date(x.validTo).toISOString().slice(0, 10)}: browsers refuse it; renew it and reload`);
        else if (left < 14) warn(`TLS certificate ${cfg.tlsCert} expires in ${left.toFixed(1)} days (${new Date(x.validTo).toISOString().slice(0, 10)}): renew it and reload`);
      } catch {
        err(`TLS certificate ${cfg.tlsCert} and key ${cfg.tlsKey} are not valid PEM, or the key does not belong to the certificate`);
      }
    }
  }

  // Secrets: readable, present, not placeholders.
  let secrets: string[] = cfg.authSecret;
  if (cfg.authSecretsFile) {
    const text = readNamed('TURN secrets file', 'authSecretsFile', cfg.authSecretsFile, out);
    if (text) {
      secrets = secretsIn(text.toString('utf8'));
      if (secrets.length === 0) err(`TURN secrets file ("authSecretsFile") ${cfg.authSecretsFile} holds no secret (one per line, # for comments)`);
      else if (secrets.some((s) => s.length < 8)) err(`TURN secrets file ("authSecretsFile") ${cfg.authSecretsFile}: every secret must be at least 8 characters`);
    }
  }
  if (secrets.some(looksLikePlaceholder)) warn('a TURN secret looks like a placeholder (REPLACE-ME, example, …): anyone who read the example can mint credentials; make one with: head -c 32 /dev/urandom | base64');
  if (cfg.metricsToken && looksLikePlaceholder(cfg.metricsToken)) warn('"metricsToken" looks like a placeholder: make one with: head -c 24 /dev/urandom | base64');
  if (secrets.length === 0 && cfg.signalPort !== null) out.push({ level: 'info', text: 'no TURN secret configured: a random one per start (fine for one node; a cluster needs the same secrets file on every node)' });

  // Values left from the sample config.
  for (const [key, ip] of [['externalIp', cfg.externalIp], ['relayIp', cfg.relayIp], ['listen', cfg.listen], ['signalListen', cfg.signalListen]] as const) {
    if (ip && inRanges(ip, DOC_RANGES)) warn(`"${key}" ${ip} is in a documentation range (RFC 5737/3849: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), left from the example? Clients cannot reach it`);
  }
  for (const [key, name] of [['publicHost', cfg.publicHost], ['realm', cfg.realm]] as const) {
    if (!name) continue;
    if (parseIp(name) && inRanges(name, DOC_RANGES)) warn(`"${key}" ${name} is in a documentation range, left from the example?`);
    else if (/(^|\.)example(\.(org|com|net))?$/i.test(name)) warn(`"${key}" ${name} is an example name (RFC 2606), left from the example?`);
  }

  // Ports below 1024 need a capability (or the sysctl).
  const ports: Array<[string, number | null]> = [
    ['port', cfg.port],
    ['altPort', cfg.altPort],
    ['tlsPort', cfg.tlsCert ? cfg.tlsPort : null],
    ['signalPort', cfg.signalPort],
    ['metricsPort', cfg.metricsPort],
  ];
  for (const [key, p] of ports) {
    if (p === null || p === 0 || p >= 1024 || host.canBindLowPort(p)) continue;
    err(
      `"${key}" ${p} is below 1024 and this process may not bind it: grant CAP_NET_BIND_SERVICE (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE, as hush-relay.service does; ` +
        `a container's non-root user cannot use it), or set net.ipv4.ip_unprivileged_port_start=${p}, or use a port of 1024 or above${key === 'tlsPort' ? ' (5349 is the standard TURN-over-TLS port)' : ''}`,
    );
  }

  // File descriptors: one per allocation, one per connection.
  const limit = host.openFileLimit();
  const need = fdBudget(cfg);
  if (limit !== null && limit < need) {
    warn(
      `open-file limit ${limit} is below what the configured quotas can use (${need}: totalQuota ${cfg.totalQuota} × threads ${turnThreadCount(cfg.threads)} + maxSignalConnections ${cfg.maxSignalConnections} + 256); ` +
        `past it new allocations get 508 and new connections fail. Raise it (systemd LimitNOFILE=65536, as hush-relay.service does; ulimit -n) or lower totalQuota and maxSignalConnections`,
    );
  }

  // /metrics is traffic metadata: not on a public address without a token.
  if (cfg.metricsPort !== null && !cfg.metricsToken && (isWildcard(cfg.metricsListen) || !inRanges(cfg.metricsListen, PRIVATE_RANGES))) {
    warn(`/metrics on "metricsListen" ${cfg.metricsListen} (not loopback or private) without "metricsToken": anyone who reaches port ${cfg.metricsPort} reads the relay's traffic counters; bind it to loopback or a monitoring network, or set a token`);
  }
  return out;
}
