/**
 * hush-relay command line: `npm run relay -- [options]`, see --help.
 * Prints what it listens on, then aggregate counts only.
 *
 *   SIGHUP           re-read the settings (config file, environment): what
 *                    changed is named and applied at the next restart, an
 *                    invalid file is reported (the running settings stay);
 *                    then re-read the TLS certificate and key and the secrets
 *                    file (relay.ts reload)
 *   SIGTERM, SIGINT  drain: no new allocations or connections, clients told to move,
 *                    live allocations relayed until they end or --drain-timeout; exit 0
 *   a second one     close at once; exit 0
 *
 *   --check-config FILE   the preflight checks (preflight.ts) of a start, then exit 0 or 2
 *   --healthcheck         GET this relay's /healthz (for a container HEALTHCHECK), exit 0 or 1
 *   --version, -h/--help
 *
 * The signal handlers are installed before anything else is loaded: a
 * SIGHUP's default action is to end the process, so one arriving during
 * start (a `systemctl reload` racing a start) would kill the relay with exit
 * 129, which Restart=on-failure does not restart. Everything heavy is
 * imported after them.
 */
import type { RelayConfig } from './config';
import type { Log } from './log';
import type { RunningRelay } from './relay';

let relay: RunningRelay | undefined;
let log: Log | undefined;
let stopRequested = false;
let reload: (() => void) | undefined;

const say = (line: string) => (log ? log.notice(line) : process.stdout.write(line + '\n'));

function stop(): void {
  if (!relay) {
    // During start: stop as soon as it is up (or exit if it never comes up).
    stopRequested = true;
    return;
  }
  const exit = (code: number) => () => process.exit(code);
  if (relay.draining) {
    // Asked twice: the operator does not want to wait.
    relay.close().then(exit(0), exit(1));
    return;
  }
  relay.drain().then(exit(0), exit(1));
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('SIGHUP', () => {
  if (reload) reload();
  else say('SIGHUP during start: ignored (the files being read now are the current ones)');
});

/** Extra words for a failed bind: what the errno means for an operator. */
function listenHint(message: string): string {
  if (/EACCES/.test(message)) {
    return ' (ports below 1024 need CAP_NET_BIND_SERVICE: systemd AmbientCapabilities=CAP_NET_BIND_SERVICE as in hush-relay.service, or net.ipv4.ip_unprivileged_port_start; or use a port of 1024 or above, e.g. 5349 for TURN over TLS)';
  }
  if (/EADDRINUSE/.test(message)) return ' (another process, another hush-relay perhaps, has that port: ss -ltnup shows which)';
  if (/EADDRNOTAVAIL/.test(message)) return ' (that address is not on this host)';
  return '';
}

/** `--check-config FILE` is `--config FILE` plus "check only"; `-h` is `--help`. */
function splitArgs(argv: string[]): { argv: string[]; check: string | null; version: boolean; healthcheck: boolean } {
  const out: string[] = [];
  let check: string | null = null;
  let version = false;
  let healthcheck = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--check-config' || a.startsWith('--check-config=')) {
      check = a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[++i] ?? '');
      if (!check) check = '';
      out.push('--config', check);
    } else if (a === '--version' || a === '-V') version = true;
    else if (a === '--healthcheck') healthcheck = true;
    else if (a === '-h') out.push('--help');
    else out.push(a);
  }
  return { argv: out, check, version, healthcheck };
}

async function main(): Promise<number | null> {
  const [{ helpText, loadConfig }, { Log }, { preflight }, { VERSION, startRelay }, { OpsWatch }] = await Promise.all([
    import('./config'),
    import('./log'),
    import('./preflight'),
    import('./relay'),
    import('./ops-watch'),
  ]);
  const args = splitArgs(process.argv.slice(2));
  if (args.check === '') {
    process.stderr.write('hush-relay: ERR_CONFIG: --check-config needs a FILE (the config file to check)\n');
    return 2;
  }
  if (args.version) {
    process.stdout.write(`hush-relay ${VERSION} (node ${process.versions.node})\n`);
    return 0;
  }
  const r = loadConfig(args.argv);
  if (r.help) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  const cfg = r.config;
  if (args.healthcheck) {
    const { healthcheck } = await import('./healthcheck');
    return (await healthcheck(cfg)) ? 0 : 1;
  }
  const findings = preflight(cfg);
  const errors = findings.filter((f) => f.level === 'error');
  if (args.check !== null) {
    for (const f of findings) process.stdout.write(`${f.level}: ${f.text}\n`);
    const warns = findings.filter((f) => f.level === 'warn').length;
    if (errors.length) {
      process.stderr.write(`hush-relay: ERR_CONFIG: ${args.check}: ${errors.length} error(s): a start would refuse\n`);
      return 2;
    }
    process.stdout.write(`config OK: ${args.check} (settings from ${r.sources.join(', ')}; ${warns} warning(s))\n`);
    return 0;
  }

  const theLog = new Log(undefined, cfg.logFormat);
  log = theLog;
  for (const f of findings) {
    if (f.level === 'error') theLog.error(f.text);
    else if (f.level === 'warn') theLog.warn(f.text);
    else theLog.notice(f.text);
  }
  if (errors.length) {
    process.stderr.write(`hush-relay: ERR_CONFIG: refusing to start: ${errors.map((e) => e.text).join('; ')}\n`);
    return 2;
  }

  const watch = new OpsWatch(cfg, theLog, () => !!relay && !relay.draining && relay.health() === null);
  relay = await startRelay(cfg, { log: theLog, sources: r.sources, metrics: () => watch.families() });
  watch.start();
  const running = relay;
  if (watch.fdLimit !== null) theLog.notice(`open-file limit ${watch.fdLimit}`);

  reload = () => rereadSettings(running, cfg, args.argv, loadConfig, preflight, watch, theLog);
  if (stopRequested) stop();
  return null;
}

/** SIGHUP: the settings first (named changes wait for a restart; a broken file is said loudly), then the files relay.ts re-reads. */
function rereadSettings(
  running: RunningRelay,
  current: RelayConfig,
  argv: string[],
  loadConfig: typeof import('./config').loadConfig,
  preflight: typeof import('./preflight').preflight,
  watch: import('./ops-watch').OpsWatch,
  theLog: Log,
): void {
  try {
    const again = loadConfig(argv);
    if (!again.help) {
      const changed = (Object.keys(current) as Array<keyof RelayConfig>).filter((k) => JSON.stringify(current[k]) !== JSON.stringify(again.config[k]));
      if (changed.length) theLog.warn(`reload: settings changed (${changed.join(', ')}): not applied now, they take effect at the next restart (systemctl restart hush-relay)`);
      else theLog.notice('reload: settings file re-read, unchanged');
      for (const f of preflight(again.config).filter((x) => x.level === 'error')) theLog.error(`reload: the next start would refuse: ${f.text}`);
    }
  } catch (e) {
    watch.configReloadFailures++;
    theLog.error(`reload: settings not re-read, the running ones stay; fix this before the next restart, which would fail: ${(e as Error).message}`);
  }
  running.reload();
  watch.readCert();
}

// Out of file descriptors, a socket accept or a /proc read can throw where
// nobody catches; that costs one connection or one figure, never the relay.
process.on('uncaughtException', (e: NodeJS.ErrnoException) => {
  if (relay && (e?.code === 'EMFILE' || e?.code === 'ENFILE')) {
    log?.error(`out of file descriptors (${e.code}) in ${e.syscall ?? 'a system call'}: that operation failed; the relay goes on (raise LimitNOFILE)`);
    return;
  }
  process.stderr.write(`hush-relay: internal error: ${e?.stack ?? String(e)}\n`);
  process.exit(1);
});

main().then(
  (code) => {
    if (code !== null) process.exit(code);
  },
  async (e: unknown) => {
    const { RelayError } = await import('./errors');
    if (e instanceof RelayError) process.stderr.write(`hush-relay: ${e.code}: ${e.message}${e.code === 'ERR_LISTEN' ? listenHint(e.message) : ''}\n`);
    else process.stderr.write(`hush-relay: failed to start (${e instanceof Error ? `${e.name}: ${e.message}` : typeof e})\n`);
    process.exit(2);
  },
);
