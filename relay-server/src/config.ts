/**
 * hush-relay settings: defaults < config file (JSON) < environment
 * (HUSH_RELAY_<NAME>) < command line. Every setting has all four forms:
 * `--auth-secret S`, `"authSecret": "S"`, `HUSH_RELAY_AUTH_SECRET=S`.
 * Defaults are safe and local: loopback only, peers on private and
 * loopback networks denied, TLS off until a certificate is given, one node
 * (no Redis). What SIGHUP re-reads (certificate, key, secrets file) is read
 * by relay-files.ts and applied by relay.ts; docs/operators.md is the guide.
 * Validation fails with ERR_CONFIG and a sentence saying what to fix.
 *
 * About 300 lines because every setting an operator may set, its default
 * and its check are kept in this one file (style.md §11).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { RelayError } from './errors';
import { canonicalIp } from './ip';
import { parseCidr } from './turn/cidr';

export interface RelayConfig {
  listen: string;
  port: number;
  /** Second STUN port for NAT mapping tests; null = off. */
  altPort: number | null;
  tlsPort: number | null;
  tlsCert: string | null;
  tlsKey: string | null;
  signalPort: number | null;
  signalListen: string | null;
  /** TURN shared secrets: the first signs new credentials, all are accepted. Empty: random per start. */
  authSecret: string[];
  /** File with one secret per line (same rule), re-read on SIGHUP; excludes authSecret. */
  authSecretsFile: string | null;
  realm: string;
  publicHost: string | null;
  /** The signalling URL clients dial, when not ws(s)://public-host:signal-port/signal (a TLS proxy in front). */
  signalUrl: string | null;
  /** The contact page /c links here to install Hush (an https URL); null: it names the stores. */
  contactInstallUrl: string | null;
  /** Who may deliver to this relay's mailboxes: `anyone` (members of other relays too, rate-limited) or `members`. */
  deliveries: 'anyone' | 'members';
  relayIp: string | null;
  externalIp: string | null;
  minPort: number;
  maxPort: number;
  allowPeer: string[];
  /** Allow the relay's own addresses as peers on any port (turn/self-peer.ts); default false. */
  allowSelfPeer: boolean;
  /** IPv6 sources sharing this prefix length share per-source limits (source-key.ts); default 64. */
  sourcePrefix6: number;
  /** MiB queued in total for readers that do not read (signalling and TURN streams); past it the slowest are closed. */
  sendBudgetMb: number;
  /** Allocations per TURN credential: one signalling connection's (turn/credential-ledger.ts). */
  userQuota: number;
  /** Allocations per client source address (IPv6 by sourcePrefix6), all its credentials together. */
  sourceQuota: number;
  totalQuota: number;
  maxMessage: number;
  unauthRate: number;
  credentialTtl: number;
  /** Seconds a credential handed out over signalling keeps working after its connection ended. */
  credentialGrace: number;
  statsInterval: number;
  maxSignalConnections: number;
  maxSignalPerIp: number;
  verifyWorkers: number;
  verifyQueue: number;
  /** TURN threads sharing the TURN port; 0: one per core (turnThreadCount). */
  threads: number;
  /** Relay ChannelData over UDP/IPv4 in the kernel (XDP), falling back to userspace (offload/start-offload.ts); default false. */
  offload: boolean;
  /** Relay ChannelData over UDP/IPv4 in the native forwarder's C threads (native/forwarder.ts), falling back to JavaScript; default false. */
  forwarder: boolean;
  /** Seconds a SIGTERM waits for live allocations and connections to end before exiting. */
  drainTimeout: number;
  /** Plain-HTTP port for /healthz and /metrics only (e.g. for a local Prometheus); null = off. */
  metricsPort: number | null;
  metricsListen: string;
  /** redis:// or rediss:// URL: several nodes route signalling through it (docs/operators.md). */
  redis: string | null;
  /** This node's name in a cluster (default: random per start). */
  nodeId: string | null;
  /** Bearer token /metrics requires; without one, /metrics is served on the metrics port only, never the signal port. */
  metricsToken: string | null;
  /** text: time, level, message; json: one object a line; plain: the message alone. */
  logFormat: LogFormat;
}

export type LogFormat = 'text' | 'json' | 'plain';

export const DEFAULTS: RelayConfig = {
  listen: '127.0.0.1',
  port: 3478,
  altPort: 3479,
  tlsPort: 5349,
  tlsCert: null,
  tlsKey: null,
  signalPort: 8080,
  signalListen: null,
  authSecret: [],
  authSecretsFile: null,
  realm: 'hush',
  publicHost: null,
  signalUrl: null,
  contactInstallUrl: null,
  deliveries: 'anyone',
  relayIp: null,
  externalIp: null,
  minPort: 49152,
  maxPort: 65535,
  allowPeer: [],
  allowSelfPeer: false,
  sourcePrefix6: 64,
  sendBudgetMb: 64,
  userQuota: 10,
  sourceQuota: 100,
  totalQuota: 2000,
  maxMessage: 4096,
  unauthRate: 50,
  credentialTtl: 3600,
  credentialGrace: 120,
  statsInterval: 0,
  maxSignalConnections: 10000,
  maxSignalPerIp: 64,
  verifyWorkers: 1,
  verifyQueue: 64,
  threads: 0,
  offload: false,
  forwarder: false,
  drainTimeout: 30,
  metricsPort: null,
  metricsListen: '127.0.0.1',
  redis: null,
  nodeId: null,
  metricsToken: null,
  logFormat: 'text',
};

/** Longest --drain-timeout: a stop must end in bounded time whatever the setting. */
export const MAX_DRAIN_SEC = 600;

type Kind = 'ip' | 'port' | 'optport' | 'int' | 'bool' | 'string' | 'optstring' | 'cidrs' | 'secrets' | 'logformat';
interface Spec {
  key: keyof RelayConfig;
  flag: string;
  kind: Kind;
  arg: string;
  help: string;
}

const SPECS: Spec[] = [
  { key: 'listen', flag: 'listen', kind: 'ip', arg: 'IP', help: 'address for STUN/TURN (UDP, TCP, TLS) and signalling; 0.0.0.0 or :: for all (default 127.0.0.1)' },
  { key: 'port', flag: 'port', kind: 'port', arg: 'N', help: 'STUN/TURN port, UDP and TCP (default 3478; 0 = any free port)' },
  { key: 'altPort', flag: 'alt-port', kind: 'optport', arg: 'N|off', help: 'second STUN-only port so clients can tell a symmetric NAT (default 3479, or any free port when --port 0)' },
  { key: 'tlsPort', flag: 'tls-port', kind: 'optport', arg: 'N|off', help: 'TURN-over-TLS port (default 5349; use 443 for strict firewalls); on only with --tls-cert and --tls-key' },
  { key: 'tlsCert', flag: 'tls-cert', kind: 'optstring', arg: 'FILE', help: 'PEM certificate chain for TURN-over-TLS and wss signalling' },
  { key: 'tlsKey', flag: 'tls-key', kind: 'optstring', arg: 'FILE', help: 'PEM private key for --tls-cert' },
  { key: 'signalPort', flag: 'signal-port', kind: 'optport', arg: 'N|off', help: 'WebSocket signalling port, path /signal (default 8080; wss when a certificate is set)' },
  { key: 'signalListen', flag: 'signal-listen', kind: 'ip', arg: 'IP', help: 'address for signalling (default: --listen)' },
  { key: 'authSecret', flag: 'auth-secret', kind: 'secrets', arg: 'S', help: 'TURN shared secret (coturn use-auth-secret scheme), repeatable: the first signs new credentials, all are accepted; default: random per start' },
  { key: 'authSecretsFile', flag: 'auth-secrets-file', kind: 'optstring', arg: 'FILE', help: 'file with one TURN secret per line (first signs, all accepted), re-read on SIGHUP; instead of --auth-secret' },
  { key: 'realm', flag: 'realm', kind: 'string', arg: 'R', help: 'TURN realm (default "hush"); mailbox proofs sign the URL the client dialled, never the realm' },
  { key: 'publicHost', flag: 'public-host', kind: 'optstring', arg: 'HOST', help: 'host name or IP put in the TURN URLs handed out (default: --listen, or the Host the client used)' },
  { key: 'signalUrl', flag: 'signal-url', kind: 'optstring', arg: 'URL', help: 'the signalling URL clients dial, when a proxy changes scheme or port (default: ws[s]://--public-host:--signal-port/signal); mailbox proofs must sign it' },
  { key: 'contactInstallUrl', flag: 'contact-install-url', kind: 'optstring', arg: 'URL', help: 'where the contact page /c tells people without Hush to install it (an https URL; default: a sentence naming the Chrome Web Store and Firefox Add-ons)' },
  { key: 'deliveries', flag: 'deliveries', kind: 'string', arg: 'WHO', help: 'who may deliver to mailboxes here: "anyone" (default: callers whose home is another relay too, without logging in, 10 deliveries/s per connection) or "members" (only connections logged in here)' },
  { key: 'relayIp', flag: 'relay-ip', kind: 'ip', arg: 'IP', help: 'address relay sockets bind to (default: --listen)' },
  { key: 'externalIp', flag: 'external-ip', kind: 'ip', arg: 'IP', help: 'relayed address announced to clients when behind 1:1 NAT (default: the relay address)' },
  { key: 'minPort', flag: 'min-port', kind: 'port', arg: 'N', help: 'lowest relay port (default 49152)' },
  { key: 'maxPort', flag: 'max-port', kind: 'port', arg: 'N', help: 'highest relay port (default 65535)' },
  { key: 'allowPeer', flag: 'allow-peer', kind: 'cidrs', arg: 'CIDR', help: 'allow relaying to a denied range, e.g. 127.0.0.0/8 for tests or 10.0.0.0/8 on-prem (repeatable)' },
  { key: 'allowSelfPeer', flag: 'allow-self-peer', kind: 'bool', arg: 'on|off', help: 'allow the relay\'s own addresses as peers on any port, not only its relay ports (default off: an allocation through the relay itself is refused)' },
  { key: 'sourcePrefix6', flag: 'source-prefix6', kind: 'int', arg: 'BITS', help: 'IPv6 sources in one prefix of this length share per-source limits (default 64, 32-128)' },
  { key: 'sendBudgetMb', flag: 'send-budget-mb', kind: 'int', arg: 'MIB', help: 'bytes queued in total to clients that do not read, in MiB; past it the slowest readers are closed (default 64)' },
  { key: 'userQuota', flag: 'user-quota', kind: 'int', arg: 'N', help: 'allocations per TURN credential, i.e. per signalling connection (default 10)' },
  { key: 'sourceQuota', flag: 'source-quota', kind: 'int', arg: 'N', help: 'allocations per client address, all its credentials together (default 100)' },
  { key: 'totalQuota', flag: 'total-quota', kind: 'int', arg: 'N', help: 'allocations in total (default 2000); keep below the open-file limit' },
  { key: 'maxMessage', flag: 'max-message', kind: 'int', arg: 'BYTES', help: 'largest STUN or ChannelData message accepted on any transport (default 4096)' },
  { key: 'unauthRate', flag: 'unauth-rate', kind: 'int', arg: 'N', help: 'answers to unauthenticated TURN requests (401/438/400) per source IP per second, burst 2N (default 50)' },
  { key: 'credentialTtl', flag: 'credential-ttl', kind: 'int', arg: 'SEC', help: 'lifetime of TURN credentials handed out over signalling (default 3600)' },
  { key: 'credentialGrace', flag: 'credential-grace', kind: 'int', arg: 'SEC', help: 'how long a TURN credential handed out over signalling keeps working after its connection closed (default 120)' },
  { key: 'statsInterval', flag: 'stats-interval', kind: 'int', arg: 'SEC', help: 'print aggregate counts every SEC seconds (default 0: only at exit)' },
  { key: 'maxSignalConnections', flag: 'max-signal-connections', kind: 'int', arg: 'N', help: 'signalling connections in total (default 10000)' },
  { key: 'maxSignalPerIp', flag: 'max-signal-per-ip', kind: 'int', arg: 'N', help: 'signalling connections per source IP (default 64)' },
  { key: 'verifyWorkers', flag: 'verify-workers', kind: 'int', arg: 'N', help: 'threads verifying mailbox proofs (default 1)' },
  { key: 'offload', flag: 'offload', kind: 'bool', arg: 'on|off', help: 'Linux: relay ChannelData over UDP/IPv4 in the kernel (XDP; needs CAP_BPF, CAP_NET_ADMIN and make -C relay-server/bpf; one TURN thread, the default with it); falls back to userspace and says why (default off)' },
  { key: 'forwarder', flag: 'forwarder', kind: 'bool', arg: 'on|off', help: 'Linux: relay ChannelData over UDP/IPv4 in native C threads with batched system calls (make -C relay-server/native); --threads then counts those threads and TURN requests run on one JavaScript thread; falls back to JavaScript and says why (default off)' },
  { key: 'threads', flag: 'threads', kind: 'int', arg: 'N', help: 'TURN threads sharing --port (default 0: one per core); UDP allocations are spread over them by username' },
  { key: 'verifyQueue', flag: 'verify-queue', kind: 'int', arg: 'N', help: 'proofs waiting for a thread before new ones get ERR_BUSY (default 64)' },
  { key: 'drainTimeout', flag: 'drain-timeout', kind: 'int', arg: 'SEC', help: `on SIGTERM/SIGINT, refuse new allocations and connections and wait up to SEC for live ones to end (default 30, at most ${MAX_DRAIN_SEC})` },
  { key: 'metricsPort', flag: 'metrics-port', kind: 'optport', arg: 'N|off', help: 'plain-HTTP port serving only /healthz and /metrics, e.g. 9478 (default off; the signal port serves /healthz, and /metrics only with --metrics-token)' },
  { key: 'metricsListen', flag: 'metrics-listen', kind: 'ip', arg: 'IP', help: 'address for --metrics-port: loopback or a private monitoring network (default 127.0.0.1)' },
  { key: 'metricsToken', flag: 'metrics-token', kind: 'optstring', arg: 'TOKEN', help: '/metrics requires "Authorization: Bearer TOKEN" (at least 16 characters); also serves /metrics on the signal port (default: none, /metrics on --metrics-port only)' },
  { key: 'logFormat', flag: 'log-format', kind: 'logformat', arg: 'text|json|plain', help: 'text: "TIME LEVEL message" (default); json: one object a line {time,level,msg}; plain: the message alone' },
  { key: 'redis', flag: 'redis', kind: 'optstring', arg: 'URL', help: 'redis://HOST:PORT (or rediss://): route signalling between relay nodes through this Redis (default: one node)' },
  { key: 'nodeId', flag: 'node-id', kind: 'optstring', arg: 'NAME', help: 'this node\'s name in a cluster, letters, digits, ".", "_", "-" (default: random per start)' },
];

/** Most TURN threads a relay runs (--threads). */
export const MAX_TURN_THREADS = 64;

/** TURN threads for `--threads n`: n, or with 0 one per core this process may use (os.availableParallelism, which counts the CPU affinity mask). */
export function turnThreadCount(n: number, cores = availableParallelism()): number {
  return n > 0 ? Math.min(n, MAX_TURN_THREADS) : Math.max(1, Math.min(cores, MAX_TURN_THREADS));
}

export function helpText(): string {
  const lines = [
    'hush-relay: STUN, TURN (UDP, TCP, TLS) and blind signalling for Hush calls.',
    '',
    'Usage: hush-relay [options]        (from the repository: npm run relay -- [options])',
    '',
    'Options (each also as a config-file key and an environment variable):',
  ];
  for (const s of SPECS) {
    lines.push(`  --${s.flag} ${s.arg}`.padEnd(34) + s.help);
    lines.push(' '.repeat(34) + `file: "${s.key}"   env: ${envName(s.flag)}`);
  }
  lines.push('  --config FILE'.padEnd(34) + 'JSON file with any of the keys above (env: HUSH_RELAY_CONFIG)');
  lines.push('  --check-config FILE'.padEnd(34) + 'check FILE (and the environment, and the other options) as a start would: TLS files, secrets,');
  lines.push(' '.repeat(34) + 'addresses, ports, open-file limit; print what it found and exit 0 (usable) or 2');
  lines.push('  --version'.padEnd(34) + 'print the version and exit');
  lines.push('  -h, --help'.padEnd(34) + 'print this and exit');
  lines.push('');
  lines.push('Started with no options it listens on 127.0.0.1 only, denies relaying to loopback,');
  lines.push('private, link-local, multicast and mapped forms of them, and prints what it listens on.');
  lines.push('It logs aggregate counts only: never an address, a username or a mailbox.');
  return lines.join('\n');
}

function envName(flag: string): string {
  return 'HUSH_RELAY_' + flag.toUpperCase().replace(/-/g, '_');
}

function bad(message: string): never {
  throw new RelayError('ERR_CONFIG', message);
}

function convert(s: Spec, raw: unknown, where: string): unknown {
  // Named the way the operator wrote it: a file key in the file, a variable in the environment.
  const name = where === 'command line' ? `--${s.flag}` : where === 'environment' ? envName(s.flag) : `"${s.key}" in ${where}`;
  const num = (v: unknown): number => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) bad(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
  switch (s.kind) {
    case 'ip': {
      if (typeof raw !== 'string' || !canonicalIp(raw)) bad(`${name} must be an IP address, got ${JSON.stringify(raw)}`);
      return canonicalIp(raw);
    }
    case 'port': {
      const n = num(raw);
      if (n > 65535) bad(`${name} must be a port number 0-65535`);
      return n;
    }
    case 'optport': {
      if (raw === null || raw === 'off' || raw === false) return null;
      const n = num(raw);
      if (n > 65535) bad(`${name} must be a port number 0-65535 or "off"`);
      return n;
    }
    case 'int':
      return num(raw);
    case 'bool':
      if (raw === true || raw === 'on' || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'off' || raw === 'false' || raw === '0') return false;
      return bad(`${name} must be on or off, got ${JSON.stringify(raw)}`);
    case 'string':
      if (typeof raw !== 'string' || raw === '') bad(`${name} must be a non-empty string`);
      return raw;
    case 'optstring':
      if (raw === null) return null;
      if (typeof raw !== 'string' || raw === '') bad(`${name} must be a non-empty string`);
      return raw;
    case 'secrets': {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : bad(`${name} must be a secret or a list of secrets`);
      for (const x of list) if (typeof x !== 'string' || x.length < 8) bad(`${name}: every secret must be a string of at least 8 characters`);
      return list;
    }
    case 'logformat':
      if (raw !== 'text' && raw !== 'json' && raw !== 'plain') bad(`${name} must be "text", "json" or "plain", got ${JSON.stringify(raw)}`);
      return raw;
    case 'cidrs': {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((x) => x.trim()).filter(Boolean) : bad(`${name} must be a list of CIDR ranges`);
      for (const c of list) if (typeof c !== 'string' || !parseCidr(c)) bad(`${name}: ${JSON.stringify(c)} is not a CIDR range like 10.0.0.0/8`);
      return list;
    }
  }
}

/** The config file as a JSON object, or ERR_CONFIG naming the file and, for bad JSON, the line and column. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    bad(`cannot read the config file ${file}: ${fileErrorText(e)}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    bad(`${file}: not valid JSON: ${jsonErrorText(text, (e as Error).message)}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) bad(`${file} must hold one JSON object ({ "key": value, ... })`);
  return obj as Record<string, unknown>;
}

/** "ENOENT (no such file)" and the like: the code an operator can search for, and what it means. */
export function fileErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied: the relay\'s user cannot read it (check owner, group and mode, e.g. 0640 root:hush-relay)',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EMFILE: 'too many open files (raise LimitNOFILE / ulimit -n)',
  };
  return why[code] ? `${code} (${why[code]})` : code;
}

/** V8's JSON error with the line and column added (Node 20 gives only a position). */
export function jsonErrorText(text: string, message: string): string {
  if (/line \d+ column \d+/.test(message)) return message;
  const m = /at position (\d+)/.exec(message);
  if (!m) return message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line} column ${column})`;
}

function suggestKey(k: string): string {
  const lower = k.toLowerCase().replace(/[-_]/g, '');
  const near = SPECS.find((x) => x.key.toLowerCase() === lower || x.flag.replace(/-/g, '') === lower);
  return near ? ` (did you mean "${near.key}"?)` : '';
}

export type ConfigResult = { help: true } | { help: false; config: RelayConfig; sources: string[] };

/** Resolve settings from argv (without node and script), env and an optional file. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
    config: { type: 'string' },
  };
  for (const s of SPECS) options[s.flag] = { type: 'string', multiple: s.kind === 'cidrs' || s.kind === 'secrets' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (e) {
    bad(`${(e as Error).message}; see --help`);
  }
  const v = parsed.values as Record<string, unknown>;
  if (v.help) return { help: true };

  const cfg: Record<string, unknown> = { ...DEFAULTS, allowPeer: [], authSecret: [] };
  const set = new Set<string>();
  const sources: string[] = ['defaults'];
  const file = (v.config as string | undefined) ?? env.HUSH_RELAY_CONFIG;
  if (file) {
    const obj = readConfigFile(file);
    for (const [k, val] of Object.entries(obj)) {
      const s = SPECS.find((x) => x.key === k);
      if (!s) bad(`${file}: unknown key "${k}"${suggestKey(k)}; see --help for the keys`);
      cfg[k] = convert(s, val, file);
      set.add(k);
    }
    sources.push('file');
  }
  let fromEnv = false;
  for (const s of SPECS) {
    const e = env[envName(s.flag)];
    if (e !== undefined && e !== '') {
      cfg[s.key] = convert(s, e, 'environment');
      set.add(s.key);
      fromEnv = true;
    }
  }
  if (fromEnv) sources.push('environment');
  let fromCli = false;
  for (const s of SPECS) {
    const val = v[s.flag];
    if (val === undefined) continue;
    cfg[s.key] = convert(s, s.kind === 'cidrs' ? (val as string[]).flatMap((x) => x.split(',')) : val, 'command line');
    set.add(s.key);
    fromCli = true;
  }
  if (fromCli) sources.push('command line');

  const c = cfg as unknown as RelayConfig;
  try {
    validate(c, set);
  } catch (e) {
    // Checks across settings speak in flags; name the file key next to each, as the operator may have used either.
    if (!(e instanceof RelayError) || !file) throw e;
    throw new RelayError('ERR_CONFIG', e.message.replace(/--([a-z-]+)/g, (m, flag: string) => {
      const s = SPECS.find((x) => x.flag === flag);
      return s ? `${m} ("${s.key}")` : m;
    }));
  }
  return { help: false, config: c, sources };
}

/** Checks across settings, after every source is merged. */
function validate(c: RelayConfig, set: Set<string>): void {
  // With --port 0 the alternate port follows (any free port) unless set.
  if (!set.has('altPort') && c.altPort !== null) c.altPort = c.port === 0 ? 0 : c.port + 1 <= 65535 ? c.port + 1 : null;
  if (c.port !== 0 && c.altPort !== null && c.altPort === c.port) bad('--alt-port must differ from --port');
  if ((c.tlsCert === null) !== (c.tlsKey === null)) bad('--tls-cert and --tls-key go together: give both or neither');
  if (c.minPort < 1024 || c.minPort > c.maxPort) bad('--min-port/--max-port must be a range within 1024-65535');
  if (c.maxPort - c.minPort < 16) bad('--min-port/--max-port range is too small (need at least 16 ports)');
  if (c.maxMessage < 548 || c.maxMessage > 65535) bad('--max-message must be between 548 and 65535 bytes');
  if (c.sendBudgetMb < 1) bad('--send-budget-mb must be at least 1');
  if (c.sourcePrefix6 < 32 || c.sourcePrefix6 > 128) bad('--source-prefix6 must be 32-128 bits');
  if (c.unauthRate < 1) bad('--unauth-rate must be at least 1');
  if (c.credentialTtl < 60) bad('--credential-ttl must be at least 60 seconds');
  if (c.userQuota < 1 || c.totalQuota < 1 || c.sourceQuota < 1) bad('--user-quota, --source-quota and --total-quota must be at least 1');
  if (c.credentialGrace > 3600) bad('--credential-grace must be at most 3600 seconds');
  if (c.threads < 0 || c.threads > 64) bad('--threads must be 0-64 (0: one per core)');
  if (c.verifyWorkers < 1 || c.verifyWorkers > 16) bad('--verify-workers must be 1-16');
  if (c.authSecret.length > 0 && c.authSecretsFile !== null) bad('give the TURN secrets either with --auth-secret or in --auth-secrets-file, not both');
  if (c.drainTimeout > MAX_DRAIN_SEC) bad(`--drain-timeout must be at most ${MAX_DRAIN_SEC} seconds`);
  if (c.redis !== null) {
    let u: URL | undefined;
    try {
      u = new URL(c.redis);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) bad('--redis must be a URL like redis://127.0.0.1:6379 or rediss://redis.internal:6380');
  }
  if (c.nodeId !== null && !/^[A-Za-z0-9._-]{1,64}$/.test(c.nodeId)) bad('--node-id must be 1-64 letters, digits, ".", "_" or "-"');
  if (c.metricsToken !== null && c.metricsToken.length < 16) bad('--metrics-token must be at least 16 characters (head -c 24 /dev/urandom | base64)');
  if (c.signalPort !== null && c.signalPort !== 0 && c.tlsPort !== null && c.tlsPort === c.signalPort && c.tlsCert !== null && (c.signalListen ?? c.listen) === c.listen) {
    bad(`--tls-port and --signal-port are both ${c.tlsPort} on ${c.listen}: TURN over TLS and signalling cannot share one TCP port on one address; move signalling (e.g. 8443) or give it another address with --signal-listen (docs/operators.md, "TLS")`);
  }
  if (/[^\x21-\x7e]/.test(c.realm) || c.realm.length > 127) bad('--realm must be printable ASCII without spaces, under 128 characters');
  if (c.deliveries !== 'anyone' && c.deliveries !== 'members') bad('--deliveries must be "anyone" or "members"');
  if (c.contactInstallUrl !== null && !/^https:\/\/[^\s/]+(\/\S*)?$/.test(c.contactInstallUrl)) bad('--contact-install-url must be an https URL, like https://hush.example/install');
  if (c.signalUrl !== null && !/^wss?:\/\/[^\s/]+\/\S*$/.test(c.signalUrl)) bad('--signal-url must be the URL clients dial, like wss://relay.example/signal');
}
