/**
 * startRelay: wires config to the shells (TURN over UDP/TCP/TLS, signalling
 * over WebSocket), prints what it listens on and aggregate counts, and
 * returns the ports actually bound and a close(). Used by the CLI and by
 * tests that want a relay in-process.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { DEFAULTS, type RelayConfig } from './config';
import { RelayError } from './errors';
import { Log, type Counts } from './log';
import { TurnShell, type TurnShellOptions } from './net/turn-shell';
import { SignalServer } from './net/signal-server';
import { TurnThreads } from './net/turn-threads';

export const VERSION = '0.1.0';

export interface RunningRelay {
  ports: { turn: number; alt: number | null; tls: number | null; signal: number | null };
  /** Host put in TURN URLs when no public host is configured. */
  host: string;
  counts(): Counts;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Log;
  sources?: string[];
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

  let tlsMaterial: { cert: Buffer; key: Buffer } | null = null;
  if (cfg.tlsCert && cfg.tlsKey) {
    try {
      tlsMaterial = { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) };
    } catch (e) {
      throw new RelayError('ERR_CONFIG', `cannot read TLS certificate or key: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const secret = cfg.authSecret ?? randomBytes(24).toString('base64url');
  const relayIp = cfg.relayIp ?? (isWildcard(cfg.listen) ? (cfg.listen === '::' ? '::' : '0.0.0.0') : cfg.listen);
  const relayFamily: 4 | 6 = relayIp.includes(':') ? 6 : 4;
  const announce = cfg.externalIp ?? (isWildcard(relayIp) ? (relayFamily === 4 ? firstPublicV4() ?? '127.0.0.1' : '::1') : relayIp);
  const host = cfg.publicHost ?? (isWildcard(cfg.listen) ? announce : cfg.listen);

  const shellOptions: TurnShellOptions = {
    core: {
      realm: cfg.realm,
      authSecret: secret,
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

  let signal: SignalServer | undefined;
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
      metrics: () => ({ ...counts(), threadAllocations: [turn.core.counters.allocationsCreated, ...threads.perThread()] }),
    });
    try {
      signalPort = await signal.start();
    } catch (e) {
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
    log.listening('signal', tlsMaterial ? 'wss' : 'ws', cfg.signalListen ?? cfg.listen, signalPort, 'path /signal');
  } else log.notice('signalling off');
  log.notice(`relay addresses: bind ${relayIp}, announced ${announce}, ports ${cfg.minPort}-${cfg.maxPort}`);
  const allowed = cfg.allowPeer.length ? cfg.allowPeer.join(', ') : 'none';
  log.notice(`peers: loopback, private, CGNAT, link-local, multicast, reserved and their mapped/NAT64 forms denied; allowed by operator: ${allowed}`);
  log.notice(`TURN auth: shared secret (${cfg.authSecret ? 'configured' : 'random per start'}), realm ${cfg.realm}; quotas ${cfg.userQuota} per user, ${cfg.totalQuota} total`);
  log.notice('ready');

  const counts = (): Counts => {
    const t = threads.counts();
    return {
      allocations: turn.core.table.size + t.allocations,
      allocationsPeak: turn.core.counters.allocationsPeak + t.allocationsPeak,
      allocationsCreated: turn.core.counters.allocationsCreated + t.allocationsCreated,
      relayedDatagrams: turn.relayedDatagrams + t.relayedDatagrams,
      signalConnections: signal?.connectionCount ?? 0,
      signalDelivered: signal?.router.counters.delivered ?? 0,
      signalUnreachable: signal?.router.counters.unreachable ?? 0,
      rejected: turn.core.counters.rejectedUnauthenticated + turn.core.counters.peerDenied + turn.core.counters.quotaRejected + t.rejected,
    };
  };

  let statsTimer: NodeJS.Timeout | undefined;
  if (cfg.statsInterval > 0) {
    statsTimer = setInterval(() => log.counts(counts(), 'periodic'), cfg.statsInterval * 1000);
    statsTimer.unref();
  }

  let closed = false;
  return {
    ports: { turn: bound.port, alt: bound.altPort, tls: bound.tlsPort, signal: signalPort },
    host,
    counts,
    async close() {
      if (closed) return;
      closed = true;
      if (statsTimer) clearInterval(statsTimer);
      await signal?.close();
      await threads.close();
      log.counts(counts(), 'exit');
      await turn.close();
    },
  };
}
