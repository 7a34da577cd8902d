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
import { randomBytes } from 'node:crypto';
import { DEFAULTS, MAX_DRAIN_SEC, turnThreadCount, type RelayConfig } from './config';
import { RelayError } from './errors';
import { Log, type Counts } from './log';
import { metricFamilies, renderPrometheus, type Family, type RelayStats } from './metrics';
import { Cluster } from './net/cluster';
import { startOpsServer, type OpsSource } from './net/ops-http';
import { SendBudget } from './net/send-budget';
import { SignalServer } from './net/signal-server';
import { TurnShell, type BoundPorts } from './net/turn-shell';
import { TurnThreads } from './net/turn-threads';
import { EventLoopDelay } from './event-loop-delay';
import { detectUdpSharing, type UdpSharing } from './net/udp-sharing';
import { describeCert, readSecrets, readTls, type TlsMaterial } from './relay-files';
import { isWildcard, relayAddresses, turnShellOptions, type RelayAddresses } from './relay-options';
import { countsOf, relayStats } from './relay-stats';
import { CredentialLedger } from './turn/credential-ledger';
import { credentialKey } from './turn/credentials';
import { Teardown } from './teardown';
import { startDatapath } from './offload/start-offload';

export const VERSION = '0.1.0';

export interface RunningRelay {
  ports: { turn: number; alt: number | null; tls: number | null; signal: number | null; metrics: number | null };
  /** Host put in TURN URLs when no public host is configured. */
  host: string;
  /** This node's name (cluster), or null for a single node. */
  nodeId: string | null;
  counts(): Counts;
  stats(): RelayStats;
  /** SIGHUP: true if the new files were applied, false if they were refused (old ones stay). */
  reload(): boolean;
  /** SIGTERM: stop taking new work, wait for live allocations (at most `timeoutSec`), close. */
  drain(timeoutSec?: number): Promise<void>;
  readonly draining: boolean;
  /** Why /healthz fails (besides draining), or null: see OpsSource.unhealthy. */
  health(): string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  /** More metric families for /metrics (ops-watch.ts: open files, certificate expiry, quotas). */
  metrics?: () => Family[];
  log?: Log;
  sources?: string[];
}

/** The startup lines after everything listens: ports, addresses, policy (no secret, no client). */
function logReady(
  log: Log,
  cfg: RelayConfig,
  p: { bound: BoundPorts; threads: number; sharing: UdpSharing; signalPort: number | null; metricsPort: number | null; tls: TlsMaterial | null; addresses: RelayAddresses; secretsSource: string },
): void {
  const { bound, tls } = p;
  log.listening('stun+turn', 'udp', cfg.listen, bound.port);
  log.listening('stun+turn', 'tcp', cfg.listen, bound.port);
  const shared = p.sharing === 'reuseport' ? 'SO_REUSEPORT' : 'SO_REUSEADDR: this Node has no reusePort';
  if (p.threads > 0) log.notice(`TURN threads: ${p.threads + 1} on port ${bound.port} (UDP allocations spread by username; port shared with ${shared})`);
  else if (cfg.threads === 0) log.notice('TURN threads: 1 (one per core, and this process may use one core)');
  if (bound.altPort !== null) {
    log.listening('stun', 'udp', cfg.listen, bound.altPort, '(alternate port, Binding only)');
    log.listening('stun', 'tcp', cfg.listen, bound.altPort, '(alternate port, Binding only)');
  } else log.notice('alternate STUN port off');
  if (bound.tlsPort !== null) log.listening('turn', 'tls', cfg.listen, bound.tlsPort);
  else log.notice(tls ? 'TURN over TLS off (--tls-port off)' : 'TURN over TLS off: no --tls-cert/--tls-key given');
  if (p.signalPort !== null) {
    log.listening('signal', tls ? 'wss' : 'ws', cfg.signalListen ?? cfg.listen, p.signalPort, cfg.metricsToken ? 'path /signal, /c, /healthz, /metrics (bearer token)' : 'path /signal, /c, /healthz');
  } else log.notice('signalling off');
  if (p.metricsPort !== null) log.listening('metrics', 'http', cfg.metricsListen, p.metricsPort, 'path /healthz, /metrics');
  if (tls) log.notice(describeCert(tls.cert));
  log.notice(`relay addresses: bind ${p.addresses.relayIp}, announced ${p.addresses.announce}, ports ${cfg.minPort}-${cfg.maxPort}`);
  const allowed = cfg.allowPeer.length ? cfg.allowPeer.join(', ') : 'none';
  log.notice(`peers: loopback, private, CGNAT, link-local, multicast, reserved and their mapped/NAT64 forms denied; allowed by operator: ${allowed}`);
  log.notice(
    `TURN auth: shared secret (${p.secretsSource}), realm ${cfg.realm}; quotas ${cfg.userQuota} per credential (one per signalling connection), ${cfg.sourceQuota} per source, ${cfg.totalQuota} total; credentials end ${cfg.credentialGrace} s after their connection`,
  );
}

export async function startRelay(partial: Partial<RelayConfig> = {}, opts: StartOptions = {}): Promise<RunningRelay> {
  const cfg: RelayConfig = { ...DEFAULTS, ...partial };
  if (partial.altPort === undefined) cfg.altPort = cfg.port === 0 ? 0 : cfg.port < 65535 ? cfg.port + 1 : null;
  const log = opts.log ?? new Log();
  log.started(VERSION, opts.sources ?? ['defaults']);

  const tlsMaterial: TlsMaterial | null = cfg.tlsCert && cfg.tlsKey ? readTls(cfg.tlsCert, cfg.tlsKey) : null;
  const auth = readSecrets(cfg);
  const addresses = relayAddresses(cfg);
  const shellOptions = turnShellOptions(cfg, auth.secrets, tlsMaterial, addresses);
  const secret = shellOptions.core.authSecret;
  const threads = new TurnThreads();
  // With --offload the kernel forwards the media, and the offload is filled from one thread:
  // the default (0: one per core) means one thread then; an explicit --threads N > 1 is refused by startDatapath.
  // With --forwarder the native forwarder's C threads carry the media (--threads counts them) and
  // one JavaScript thread answers TURN requests and fills the forwarder's entries.
  const threadCount = cfg.forwarder ? 1 : cfg.offload && cfg.threads === 0 ? 1 : turnThreadCount(cfg.threads);
  const sharing: UdpSharing = threadCount > 1 ? await detectUdpSharing(cfg.listen) : 'reuseaddr';
  if (threadCount > 1) {
    shellOptions.shareListenPort = sharing;
    // Authenticated UDP Allocates go to the thread that owns their username (turn-threads.ts).
    shellOptions.handoff = (req) => {
      const t = threads.pick(credentialKey(req.username));
      if (t < 0) return false;
      threads.adopt(t, req, (result) => {
        if (result === 'failed') turn.run(turn.core.relayBound(req, { ok: false }, Date.now()));
        else turn.core.pending.delete(req.tupleKey);
      });
      return true;
    };
  }
  const turn = new TurnShell(shellOptions);
  // One TURN credential per signalling connection, usable until credentialGrace after it closed (turn/credential-ledger.ts).
  const credentials = new CredentialLedger({
    ttlSec: cfg.credentialTtl,
    graceMs: cfg.credentialGrace * 1000,
    onEnded: (key, at) => threads.credentialEnded(key, at),
  });
  turn.core.setLiveness(credentials);
  // Allocations held by the other TURN threads count against the main thread's per-credential and per-source quotas.
  threads.onHeld = (username, address, d) => turn.core.table.countElsewhere(username, address, d);
  // A thread's deleted allocation: its connected socket is closed, so retransmitted deletes reach the main listener.
  threads.onDeleted = (address, port, request, response) => turn.core.recent.remember(address, port, request, response, Date.now());
  const bound = await turn.start();
  const datapath = await startDatapath(
    turn.core,
    { enabled: cfg.offload, listenIp: cfg.listen, listenPort: bound.port, relayIp: addresses.relayIp, threads: threadCount, mode: 'auto', maxMessage: cfg.maxMessage,
      forwarder: cfg.forwarder ? { threads: turnThreadCount(cfg.threads), listener: turn.mainUdp() } : undefined },
    (line) => log.notice(line),
  );

  let draining = false;
  let reloads = 0;
  let reloadFailures = 0;
  let signal: SignalServer | undefined;
  const nodeId = cfg.redis ? (cfg.nodeId ?? randomBytes(4).toString('hex')) : null;
  const cluster =
    cfg.redis && nodeId !== null && cfg.signalPort !== null
      ? new Cluster({
          url: cfg.redis,
          nodeId,
          realm: cfg.realm,
          onEnvelope: (to, from, data) => signal?.deliverRemote(to, from, data),
          onStatus: (up) =>
            log.notice(up ? 'cluster: redis connected' : 'cluster: redis unreachable: envelopes for other nodes are answered unreachable until it is back; retrying'),
          notice: (line) => log.notice(line),
          error: (line) => log.error(line),
        })
      : undefined;
  // Event-loop stalls of the main thread, for /metrics (event-loop-delay.ts).
  const loop = new EventLoopDelay();
  const stats = (): RelayStats => relayStats({ turn, threads, signal, cluster, draining, reloads, reloadFailures, loop });
  const counts = (): Counts => countsOf(stats());
  const ops: OpsSource = {
    draining: () => draining,
    metrics: () => renderPrometheus([...metricFamilies(stats(), VERSION, nodeId), ...datapath.families(), ...(opts.metrics?.() ?? [])]),
    unhealthy: () => cluster?.problem ?? null,
    metricsToken: cfg.metricsToken,
  };

  // Everything started after the TURN shell closes through here, newest first; the shell closes last.
  const teardown = new Teardown();
  teardown.add(() => loop.stop());
  teardown.add(() => datapath.close());
  let signalPort: number | null = null;
  let metricsServer: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  try {
    teardown.add(() => threads.close());
    if (threadCount > 1) await threads.start(threadCount - 1, { ...shellOptions, self: turn.selfConfig }, bound.port, sharing);
    if (cfg.signalPort !== null) {
      const server = new SignalServer({
        listen: cfg.signalListen ?? cfg.listen,
        port: cfg.signalPort,
        realm: cfg.realm,
        tls: tlsMaterial,
        turnSecret: secret,
        credentials,
        publicHost: cfg.publicHost ?? (isWildcard(cfg.listen) ? null : cfg.listen),
        signalUrl: cfg.signalUrl,
        contactInstallUrl: cfg.contactInstallUrl,
        deliveries: cfg.deliveries,
        turnPort: bound.port,
        altPort: bound.altPort,
        tlsPort: bound.tlsPort,
        maxConnections: cfg.maxSignalConnections,
        maxPerIp: cfg.maxSignalPerIp,
        sourcePrefix6: cfg.sourcePrefix6,
        verifyWorkers: cfg.verifyWorkers,
        verifyQueue: cfg.verifyQueue,
        ops,
        cluster,
      });
      signal = server;
      signalPort = await server.start();
      teardown.add(async () => {
        await server.close();
        await cluster?.close();
      });
    }
    if (cfg.metricsPort !== null) {
      const m = await startOpsServer(cfg.metricsListen, cfg.metricsPort, ops);
      metricsServer = m;
      teardown.add(() => m.close());
    }
  } catch (e) {
    await teardown.run();
    await turn.close();
    throw e;
  }

  logReady(log, cfg, {
    bound,
    threads: threads.size,
    sharing,
    signalPort: signal ? signalPort : null,
    metricsPort: metricsServer?.port ?? null,
    tls: tlsMaterial,
    addresses,
    secretsSource: auth.source,
  });
  if (cluster && cfg.redis) {
    log.notice(`cluster: node ${nodeId}, signalling routed through redis at ${new URL(cfg.redis).host} (sharded pub/sub); TURN allocations stay on this node`);
    cluster.start();
  } else if (cfg.redis) log.notice('cluster: --redis ignored (signalling off)');
  log.notice(datapath.describe());
  log.notice('ready');

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
    const [first] = secrets?.secrets ?? [];
    if (secrets && first !== undefined) {
      turn.core.setSecrets(secrets.secrets);
      threads.setSecrets(secrets.secrets);
      signal?.setTurnSecret(first);
      done.push(`TURN secrets: ${secrets.source}`);
    }
    reloads++;
    log.notice(done.length ? `reloaded: ${done.join('; ')}` : 'reload: nothing to re-read (no certificate or --auth-secrets-file configured)');
    return true;
  };
  // One bound on what stalled readers hold, signalling and TURN streams together (send-budget.ts).
  const budget = new SendBudget(cfg.sendBudgetMb * 1024 * 1024);
  budget.add(() => turn.streamReaders());
  const signalServer = signal;
  if (signalServer) budget.add(() => signalServer.readers());
  const budgetTimer = setInterval(() => budget.enforce(), 1000);
  budgetTimer.unref();
  teardown.add(() => clearInterval(budgetTimer));
  if (cfg.statsInterval > 0) {
    const statsTimer = setInterval(() => log.counts(counts(), 'periodic'), cfg.statsInterval * 1000);
    statsTimer.unref();
    teardown.add(() => clearInterval(statsTimer));
  }

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await teardown.run();
    // The final counts, with the allocations still live when the relay stops.
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
    host: addresses.host,
    nodeId,
    counts,
    stats,
    reload,
    drain,
    get draining() {
      return draining;
    },
    health: () => cluster?.problem ?? null,
    close,
  };
}
