/**
 * startRelay: wires config to the shells (TURN over UDP/TCP/TLS, signalling
 * over WebSocket, the operator endpoints, Redis for several nodes), prints
 * what it listens on and aggregate counts, and returns the ports actually
 * bound and the three operations the CLI maps to signals:
 *
 *  - reload() (SIGHUP): re-read the certificate, its key and the secrets
 *    file; all checked before anything is applied, so a bad file changes
 *    nothing. Live sockets and allocations are not touched: a new
 *    certificate serves new handshakes (setSecureContext), new secrets sign
 *    and check new credentials, allocations keep the key they were made with.
 *  - drain() (SIGTERM, SIGINT): refuse new allocations (508) and signalling
 *    connections, tell connected clients to move (close 1012), keep relaying
 *    until the live allocations end, or go quiet for 10 s (their call moved
 *    to another node), or the drain timeout, then close.
 *  - close(): everything at once.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createSecureContext } from 'node:tls';
import { DEFAULTS, fileErrorText, MAX_DRAIN_SEC, type RelayConfig } from './config';
import { RelayError } from './errors';
import { Log, type Counts } from './log';
import { metricFamilies, renderPrometheus, safeMemory, type Family, type RelayStats } from './metrics';
import { Cluster } from './net/cluster';
import { startOpsServer, type OpsSource } from './net/ops-http';
import { TurnShell, type TurnShellOptions } from './net/turn-shell';
import { SignalServer } from './net/signal-server';
import { TurnThreads } from './net/turn-threads';

export const VERSION = '0.1.0';

export interface RunningRelay {
  ports: { turn: number; alt: number | null; tls: number | null; signal: number | null; metrics: number | null };
  /** Host put in TURN URLs when no public host is configured. */
  host: string;
  /** This node's name (cluster), or null for a single node. */
  nodeId: string | null;
  counts(): Counts;
  stats(): RelayStats;
  /** Why /healthz fails (besides draining), or null: see OpsSource.unhealthy. */
  health(): string | null;
  /** SIGHUP: true if the new files were applied, false if they were refused (old ones stay). */
  reload(): boolean;
  /** SIGTERM: stop taking new work, wait for live allocations (at most `timeoutSec`), close. */
  drain(timeoutSec?: number): Promise<void>;
  readonly draining: boolean;
  close(): Promise<void>;
}

type TlsMaterial = { cert: Buffer; key: Buffer };

/** Certificate and key from their files, checked to belong together. */
function readTls(certFile: string, keyFile: string): TlsMaterial {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new RelayError('ERR_CONFIG', `cannot read the TLS ${what} ${file}: ${fileErrorText(e)}`);
    }
  };
  const m: TlsMaterial = { cert: read('certificate', certFile), key: read('key', keyFile) };
  try {
    createSecureContext({ cert: m.cert, key: m.key });
  } catch {
    throw new RelayError('ERR_CONFIG', 'the TLS certificate and key are not valid PEM or do not belong together');
  }
  return m;
}

function describeCert(cert: Buffer): string {
  try {
    const x = new X509Certificate(cert);
    return `certificate ${x.subject.replace(/\n/g, ', ')}, valid until ${new Date(x.validTo).toISOString().slice(0, 10)}, sha256 ${x.fingerprint256.slice(0, 23)}…`;
  } catch {
    return 'certificate loaded';
  }
}

/**
 * The TURN shared secrets, the one that signs new credentials first. From the
 * secrets file (one per line; blank lines and # comments skipped), else the
 * configured list, else one random secret for this run.
 */
export function readSecrets(cfg: Pick<RelayConfig, 'authSecret' | 'authSecretsFile'>): { secrets: string[]; source: string } {
  if (cfg.authSecretsFile) {
    let text: string;
    try {
      text = readFileSync(cfg.authSecretsFile, 'utf8');
    } catch (e) {
      throw new RelayError('ERR_CONFIG', `cannot read the TURN secrets file ${cfg.authSecretsFile}: ${fileErrorText(e)}`);
    }
    const secrets = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (secrets.length === 0) throw new RelayError('ERR_CONFIG', 'the TURN secrets file holds no secret (one per line)');
    if (secrets.some((x) => x.length < 8)) throw new RelayError('ERR_CONFIG', 'every secret in the TURN secrets file must be at least 8 characters');
    return { secrets, source: `${secrets.length} from the secrets file` };
  }
  if (cfg.authSecret.length > 0) return { secrets: [...cfg.authSecret], source: cfg.authSecret.length === 1 ? 'configured' : `${cfg.authSecret.length} configured` };
  return { secrets: [randomBytes(24).toString('base64url')], source: 'random per start' };
}

export interface StartOptions {
  log?: Log;
  sources?: string[];
  /** More metric families for /metrics (ops-watch.ts: open files, certificate expiry, quotas). */
  metrics?: () => Family[];
}

function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

function firstPublicV4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return undefined;
}

export async function startRelay(partial: Partial<RelayConfig> = {}, opts: StartOptions = {}): Promise<RunningRelay> {
  const cfg: RelayConfig = { ...DEFAULTS, ...partial };
  if (partial.altPort === undefined) cfg.altPort = cfg.port === 0 ? 0 : cfg.port < 65535 ? cfg.port + 1 : null;
  const log = opts.log ?? new Log();
  log.started(VERSION, opts.sources ?? ['defaults']);

  const tlsMaterial: TlsMaterial | null = cfg.tlsCert && cfg.tlsKey ? readTls(cfg.tlsCert, cfg.tlsKey) : null;
  const auth = readSecrets(cfg);
  const secret = auth.secrets[0]!;
  const relayIp = cfg.relayIp ?? (isWildcard(cfg.listen) ? (cfg.listen === '::' ? '::' : '0.0.0.0') : cfg.listen);
  const relayFamily: 4 | 6 = relayIp.includes(':') ? 6 : 4;
  const announce = cfg.externalIp ?? (isWildcard(relayIp) ? (relayFamily === 4 ? firstPublicV4() ?? '127.0.0.1' : '::1') : relayIp);
  const host = cfg.publicHost ?? (isWildcard(cfg.listen) ? announce : cfg.listen);

  const shellOptions: TurnShellOptions = {
    core: {
      realm: cfg.realm,
      authSecret: secret,
      authSecrets: auth.secrets,
      userQuota: cfg.userQuota,
      totalQuota: cfg.totalQuota,
      allowPeers: cfg.allowPeer,
      families: [relayFamily],
      unauthRatePerSec: cfg.unauthRate,
      unauthBurst: cfg.unauthRate * 2,
    },
    listen: cfg.listen,
    port: cfg.port,
    altPort: cfg.altPort,
    tlsPort: cfg.tlsPort,
    tls: tlsMaterial,
    relayBind: { 4: relayFamily === 4 ? relayIp : null, 6: relayFamily === 6 ? relayIp : null },
    relayAnnounce: { 4: relayFamily === 4 ? announce : null, 6: relayFamily === 6 ? announce : null },
    minPort: cfg.minPort,
    maxPort: cfg.maxPort,
    maxMessage: cfg.maxMessage,
    nonceKey: randomBytes(32),
  };
  const threads = new TurnThreads();
  if (cfg.threads > 1) {
    shellOptions.shareListenPort = true;
    // Authenticated UDP Allocates go to the thread that owns their username (turn-threads.ts).
    shellOptions.handoff = (req) => {
      const t = threads.pick(req.username);
      if (t < 0) return false;
      threads.adopt(t, req, (result) => {
        if (result === 'failed') turn.run(turn.core.relayBound(req, { ok: false }, Date.now()));
        else turn.core.pending.delete(req.tupleKey);
      });
      return true;
    };
  }
  const turn = new TurnShell(shellOptions);
  const bound = await turn.start();
  if (cfg.threads > 1) {
    try {
      await threads.start(cfg.threads - 1, shellOptions, bound.port);
    } catch (e) {
      await threads.close();
      await turn.close();
      throw e;
    }
  }

  let draining = false;
  let reloads = 0;
  let reloadFailures = 0;
  const ops: OpsSource = {
    draining: () => draining,
    metrics: () => {
      // Process memory after a GC when node runs with --expose-gc (bench/relay.bench.ts reads it).
      (globalThis as { gc?: () => void }).gc?.();
      return renderPrometheus([...metricFamilies(stats(), VERSION, nodeId), ...(opts.metrics?.() ?? [])]);
    },
    unhealthy: () => cluster?.problem ?? null,
    metricsToken: cfg.metricsToken,
  };

  const nodeId = cfg.redis ? (cfg.nodeId ?? randomBytes(4).toString('hex')) : null;
  let signal: SignalServer | undefined;
  const cluster =
    cfg.redis && cfg.signalPort !== null
      ? new Cluster({
          url: cfg.redis,
          nodeId: nodeId!,
          realm: cfg.realm,
          onEnvelope: (to, from, data) => signal?.deliverRemote(to, from, data),
          onStatus: (up) =>
            log.notice(up ? 'cluster: redis connected' : 'cluster: redis unreachable: envelopes for other nodes are answered unreachable until it is back; retrying'),
          notice: (line) => log.notice(line),
          error: (line) => log.error(line),
        })
      : undefined;
  let signalPort: number | null = null;
  if (cfg.signalPort !== null) {
    signal = new SignalServer({
      listen: cfg.signalListen ?? cfg.listen,
      port: cfg.signalPort,
      realm: cfg.realm,
      tls: tlsMaterial,
      turnSecret: secret,
      credentialTtl: cfg.credentialTtl,
      publicHost: cfg.publicHost ?? (isWildcard(cfg.listen) ? null : cfg.listen),
      turnPort: bound.port,
      altPort: bound.altPort,
      tlsPort: bound.tlsPort,
      maxConnections: cfg.maxSignalConnections,
      maxPerIp: cfg.maxSignalPerIp,
      verifyWorkers: cfg.verifyWorkers,
      verifyQueue: cfg.verifyQueue,
      ops,
      cluster,
    });
    try {
      signalPort = await signal.start();
    } catch (e) {
      await threads.close();
      await turn.close();
      throw e;
    }
  }
  let metricsServer: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  if (cfg.metricsPort !== null) {
    try {
      metricsServer = await startOpsServer(cfg.metricsListen, cfg.metricsPort, ops);
    } catch (e) {
      await signal?.close();
      await threads.close();
      await turn.close();
      throw e;
    }
  }

  log.listening('stun+turn', 'udp', cfg.listen, bound.port);
  log.listening('stun+turn', 'tcp', cfg.listen, bound.port);
  if (threads.size > 0) log.notice(`TURN threads: ${threads.size + 1} on port ${bound.port} (UDP allocations spread by username)`);
  if (bound.altPort !== null) {
    log.listening('stun', 'udp', cfg.listen, bound.altPort, '(alternate port, Binding only)');
    log.listening('stun', 'tcp', cfg.listen, bound.altPort, '(alternate port, Binding only)');
  } else log.notice('alternate STUN port off');
  if (bound.tlsPort !== null) log.listening('turn', 'tls', cfg.listen, bound.tlsPort);
  else log.notice(tlsMaterial ? 'TURN over TLS off (--tls-port off)' : 'TURN over TLS off: no --tls-cert/--tls-key given');
  if (signal && signalPort !== null) {
    log.listening('signal', tlsMaterial ? 'wss' : 'ws', cfg.signalListen ?? cfg.listen, signalPort, cfg.metricsToken ? 'path /signal, /healthz, /metrics (bearer token)' : 'path /signal, /healthz');
  } else log.notice('signalling off');
  if (metricsServer) log.listening('metrics', 'http', cfg.metricsListen, metricsServer.port, 'path /healthz, /metrics');
  if (tlsMaterial) log.notice(describeCert(tlsMaterial.cert));
  log.notice(`relay addresses: bind ${relayIp}, announced ${announce}, ports ${cfg.minPort}-${cfg.maxPort}`);
  const allowed = cfg.allowPeer.length ? cfg.allowPeer.join(', ') : 'none';
  log.notice(`peers: loopback, private, CGNAT, link-local, multicast, reserved and their mapped/NAT64 forms denied; allowed by operator: ${allowed}`);
  log.notice(`TURN auth: shared secret (${auth.source}), realm ${cfg.realm}; quotas ${cfg.userQuota} per user, ${cfg.totalQuota} total`);
  if (cluster) {
    log.notice(`cluster: node ${nodeId}, signalling routed through redis at ${new URL(cfg.redis!).host} (sharded pub/sub); TURN allocations stay on this node`);
    cluster.start();
  } else if (cfg.redis) log.notice('cluster: --redis ignored (signalling off)');
  log.notice('ready');

  const stats = (): RelayStats => {
    const m = turn.stats();
    const t = threads.counts();
    const mem = safeMemory(); // never throws, even out of file descriptors
    const r = signal?.router.counters;
    return {
      allocations: m.allocations + t.allocations,
      allocationsPeak: m.allocationsPeak + t.allocationsPeak,
      allocationsCreated: m.allocationsCreated + t.allocationsCreated,
      relayedDatagrams: m.relayedDatagrams + t.relayedDatagrams,
      relayedBytes: m.relayedBytes + t.relayedBytes,
      signalConnections: signal?.connectionCount ?? 0,
      signalDelivered: r?.delivered ?? 0,
      signalUnreachable: r?.unreachable ?? 0,
      rejected: m.rejected + t.rejected,
      turnAuthFailed: m.authFailed + t.authFailed,
      turnChallenged: m.challenged + t.challenged,
      peerDenied: m.peerDenied + t.peerDenied,
      quotaRejected: m.quotaRejected + t.quotaRejected,
      drainRefused: m.drainRefused + t.drainRefused,
      rateLimited: m.rateLimited + t.rateLimited,
      malformed: m.malformed + t.malformed,
      dropped: m.dropped + t.dropped,
      tcpConnections: m.tcpConnections + t.tcpConnections,
      threadAllocations: [m.allocationsCreated, ...threads.perThread()],
      signalAuthOk: r?.authOk ?? 0,
      signalAuthFailed: r?.authFailed ?? 0,
      signalMailboxes: signal?.router.liveMailboxes ?? 0,
      signalFromOtherNodes: r?.fromOtherNodes ?? 0,
      draining,
      reloads,
      reloadFailures,
      cluster: cluster ? { up: cluster.up, ...cluster.counters } : null,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
    };
  };
  const counts = (): Counts => {
    const s = stats();
    return {
      allocations: s.allocations,
      allocationsPeak: s.allocationsPeak,
      allocationsCreated: s.allocationsCreated,
      relayedDatagrams: s.relayedDatagrams,
      signalConnections: s.signalConnections,
      signalDelivered: s.signalDelivered,
      signalUnreachable: s.signalUnreachable,
      rejected: s.rejected,
    };
  };

  const reload = (): boolean => {
    // Read and check everything first: a bad file must change nothing.
    let material: TlsMaterial | null = null;
    let secrets: { secrets: string[]; source: string } | null = null;
    try {
      if (cfg.tlsCert && cfg.tlsKey) material = readTls(cfg.tlsCert, cfg.tlsKey);
      if (cfg.authSecretsFile) secrets = readSecrets(cfg);
    } catch (e) {
      reloadFailures++;
      log.notice(`reload refused, settings unchanged: ${e instanceof RelayError ? e.message : 'unreadable files'}`);
      return false;
    }
    const done: string[] = [];
    if (material) {
      turn.setTls(material);
      signal?.setTls(material);
      done.push(describeCert(material.cert));
    }
    if (secrets) {
      turn.core.setSecrets(secrets.secrets);
      threads.setSecrets(secrets.secrets);
      signal?.setTurnSecret(secrets.secrets[0]!);
      done.push(`TURN secrets: ${secrets.source}`);
    }
    reloads++;
    log.notice(done.length ? `reloaded: ${done.join('; ')}` : 'reload: nothing to re-read (no certificate or --auth-secrets-file configured)');
    return true;
  };
  let statsTimer: NodeJS.Timeout | undefined;
  if (cfg.statsInterval > 0) {
    statsTimer = setInterval(() => log.counts(counts(), 'periodic'), cfg.statsInterval * 1000);
    statsTimer.unref();
  }

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (statsTimer) clearInterval(statsTimer);
    await signal?.close();
    await cluster?.close();
    await metricsServer?.close();
    await threads.close();
    log.counts(counts(), 'exit');
    await turn.close();
  };
  let drained: Promise<void> | undefined;
  const drain = (timeoutSec = cfg.drainTimeout): Promise<void> => {
    if (drained) return drained;
    draining = true;
    turn.core.draining = true;
    threads.drain();
    signal?.drain();
    const limitMs = Math.min(Math.max(timeoutSec, 0), MAX_DRAIN_SEC) * 1000;
    const live = stats();
    log.notice(`draining: refusing new allocations and connections; ${live.allocations} allocations live, waiting up to ${limitMs / 1000} s for them to end or go quiet`);
    const started = Date.now();
    drained = new Promise<void>((resolve) => {
      const check = (): void => {
        const s = stats();
        const idle = s.allocations === 0 && s.signalConnections === 0;
        if (idle || Date.now() - started >= limitMs) {
          log.notice(idle ? `drained in ${((Date.now() - started) / 1000).toFixed(1)} s` : `drain timeout: closing ${s.allocations} allocations still live`);
          void close().then(resolve, resolve);
          return;
        }
        setTimeout(check, 200);
      };
      check();
    });
    return drained;
  };
  return {
    ports: { turn: bound.port, alt: bound.altPort, tls: bound.tlsPort, signal: signalPort, metrics: metricsServer?.port ?? null },
    host,
    nodeId,
    counts,
    stats,
    health: () => cluster?.problem ?? null,
    reload,
    drain,
    get draining() {
      return draining;
    },
    close,
  };
}
