/**
 * hush-relay command line: `npm run relay -- [options]`, see --help.
 * Prints what it listens on, then aggregate counts only.
 *
 *   SIGHUP           re-read the TLS certificate and key and the secrets file (relay.ts reload)
 *   SIGTERM, SIGINT  drain: no new allocations or connections, clients told to move,
 *                    live allocations relayed until they end or --drain-timeout; exit 0
 *   a second one     close at once; exit 0
 */
import { helpText, loadConfig } from './config';
import { RelayError } from './errors';
import { Log } from './log';
import { startRelay } from './relay';

async function main(): Promise<void> {
  const r = loadConfig(process.argv.slice(2));
  if (r.help) {
    process.stdout.write(helpText() + '\n');
    return;
  }
  const relay = await startRelay(r.config, { log: new Log(), sources: r.sources });
  const exit = (code: number) => () => process.exit(code);
  const stop = () => {
    if (relay.draining) {
      // Asked twice: the operator does not want to wait.
      relay.close().then(exit(0), exit(1));
      return;
    }
    relay.drain().then(exit(0), exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => relay.reload());
}

main().catch((e: unknown) => {
  if (e instanceof RelayError) process.stderr.write(`hush-relay: ${e.code}: ${e.message}\n`);
  else process.stderr.write(`hush-relay: failed to start (${e instanceof Error ? e.name : typeof e})\n`);
  process.exit(2);
});
