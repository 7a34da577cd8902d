/**
 * hush-relay command line: `npm run relay -- [options]`, see --help.
 * Prints what it listens on, then aggregate counts only; SIGINT/SIGTERM
 * close every socket and print the final counts.
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
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    relay.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  if (e instanceof RelayError) process.stderr.write(`hush-relay: ${e.code}: ${e.message}\n`);
  else process.stderr.write(`hush-relay: failed to start (${e instanceof Error ? e.name : typeof e})\n`);
  process.exit(2);
});
