/**
 * OpsWatch: what the relay tells its operator while it runs, beyond counts
 * (issue 20). Main thread only; every timer is unref'd and every read is
 * allowed to fail (a process out of file descriptors must keep relaying,
 * keep answering /metrics and still drain on SIGTERM).
 *
 *  - Relay sockets that cannot be opened (relay-sockets.ts): an Allocate
 *    answered 508 for want of a socket is logged as an error, at most once
 *    per LOG_EVERY_MS with the count since the last line, and counted by
 *    errno code.
 *  - Open descriptors against the soft limit, sampled every FD_SAMPLE_MS:
 *    an error line when over 90 % (at most once per LOG_EVERY_MS).
 *  - Metrics: open files and the limit, the certificate's expiry, the
 *    configured quotas, relay-socket failures, SIGHUP config re-reads that
 *    failed, and whether /healthz is passing.
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { turnThreadCount, type RelayConfig } from './config';
import type { Log } from './log';
import { family, type Family } from './metrics';
import { relaySocketFailures, watchRelaySocketFailures } from './net/relay-sockets';
import { openFileLimit } from './preflight';

const FD_SAMPLE_MS = 5000;
const LOG_EVERY_MS = 10_000;

const WHY: Record<string, string> = {
  EMFILE: 'too many open files: the open-file limit is reached; raise LimitNOFILE (ulimit -n) or lower totalQuota',
  ENFILE: 'the system-wide file table is full (fs.file-max)',
  EADDRNOTAVAIL: 'the relay address is not on this host (check relayIp)',
  EACCES: 'permission denied for the relay port range (minPort-maxPort)',
  ENOBUFS: 'out of kernel buffers',
};

/** Open descriptors of this process, or null when they cannot be counted (EMFILE itself, no /proc). */
export function openFileCount(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1; // the directory's own descriptor
  } catch {
    return null;
  }
}

export class OpsWatch {
  readonly fdLimit: number | null = openFileLimit();
  private fdOpen: number | null = openFileCount();
  private certExpiry: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastFdLog = 0;
  private lastSocketLog = 0;
  private socketFailuresSinceLog = 0;
  private socketCodesSinceLog = new Set<string>();
  private socketFlush: NodeJS.Timeout | undefined;
  configReloadFailures = 0;

  constructor(
    private readonly cfg: RelayConfig,
    private readonly log: Log,
    private readonly healthy: () => boolean = () => true,
  ) {
    this.readCert();
  }

  start(): void {
    watchRelaySocketFailures((code) => this.onSocketFailure(code));
    this.timer = setInterval(() => this.sampleFds(), FD_SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    watchRelaySocketFailures(undefined);
    clearInterval(this.timer);
    clearTimeout(this.socketFlush);
  }

  /** After a reload: the certificate may be a new one. */
  readCert(): void {
    if (!this.cfg.tlsCert) return;
    try {
      this.certExpiry = Date.parse(new X509Certificate(readFileSync(this.cfg.tlsCert)).validTo) / 1000;
    } catch {
      // keep the last known expiry; preflight and reload report unreadable files
    }
  }

  private onSocketFailure(code: string): void {
    this.socketFailuresSinceLog++;
    this.socketCodesSinceLog.add(code);
    const now = Date.now();
    if (now - this.lastSocketLog >= LOG_EVERY_MS) this.flushSocketLog();
    else if (!this.socketFlush) {
      this.socketFlush = setTimeout(() => this.flushSocketLog(), LOG_EVERY_MS - (now - this.lastSocketLog));
      this.socketFlush.unref();
    }
  }

  private flushSocketLog(): void {
    this.socketFlush = undefined;
    if (this.socketFailuresSinceLog === 0) return;
    const why = [...this.socketCodesSinceLog].map((c) => `${c} (${WHY[c] ?? 'see errno'})`).join('; ');
    const limit = this.socketCodesSinceLog.has('EMFILE') && this.fdLimit !== null ? ` [open-file limit ${this.fdLimit}]` : '';
    this.log.error(`allocations refused (508): ${this.socketFailuresSinceLog} could not open a relay socket: ${why}${limit}`);
    this.lastSocketLog = Date.now();
    this.socketFailuresSinceLog = 0;
    this.socketCodesSinceLog.clear();
  }

  private sampleFds(): void {
    const n = openFileCount();
    // Not countable: the directory could not be opened, which on Linux means EMFILE.
    this.fdOpen = n ?? this.fdLimit;
    if (this.fdLimit === null || this.fdOpen === null || this.fdOpen < this.fdLimit * 0.9) return;
    const now = Date.now();
    if (now - this.lastFdLog < LOG_EVERY_MS) return;
    this.lastFdLog = now;
    this.log.error(`open files ${n === null ? 'at' : this.fdOpen + ' of'} the limit ${this.fdLimit}: new allocations and connections fail (EMFILE); raise LimitNOFILE (ulimit -n) or lower totalQuota and maxSignalConnections`);
  }

  families(): Family[] {
    const f: Family[] = [];
    const open = openFileCount() ?? this.fdOpen;
    if (open !== null) f.push(family('open_fds', 'gauge', 'File descriptors open now (sockets included).', open));
    if (this.fdLimit !== null) f.push(family('max_fds', 'gauge', 'Soft open-file limit of the process (LimitNOFILE, ulimit -n).', this.fdLimit));
    if (this.certExpiry !== null) f.push(family('tls_cert_expiry_timestamp_seconds', 'gauge', 'Expiry (notAfter) of the TLS certificate served, Unix time.', this.certExpiry));
    f.push(
      family('user_quota', 'gauge', 'Configured allocations per TURN credential, i.e. per signalling connection (userQuota).', this.cfg.userQuota),
      family('source_quota', 'gauge', 'Configured allocations per client address (sourceQuota).', this.cfg.sourceQuota),
      family('total_quota', 'gauge', 'Configured allocations in total per TURN thread (totalQuota).', this.cfg.totalQuota),
      family('turn_threads', 'gauge', 'Configured TURN threads (threads).', turnThreadCount(this.cfg.threads)),
      family('max_signal_connections', 'gauge', 'Configured signalling connections in total (maxSignalConnections).', this.cfg.maxSignalConnections),
      {
        name: 'hush_relay_relay_socket_failures_total',
        type: 'counter',
        help: 'Allocations refused (508) because a relay socket could not be opened, by errno code.',
        samples: [...relaySocketFailures].map(([code, v]) => ({ labels: { code }, value: v })),
      },
      family('config_reload_failures_total', 'counter', 'SIGHUP re-reads of the settings (config file, environment) that failed; the running settings stay.', this.configReloadFailures),
      family('healthy', 'gauge', '1 while /healthz answers 200.', this.healthy()),
    );
    return f;
  }
}
