/**
 * Worker-thread entry for `--threads N`: one more complete TURN shell
 * (UDP+TCP on its own port, its own relay sockets, its own sans-IO core).
 * Threads share nothing; the signalling hands each credential issue a TURN
 * port round-robin, so allocations spread over cores. Reports aggregate
 * counts only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TurnShell, type TurnShellOptions } from './turn-shell';

const shell = new TurnShell(workerData as TurnShellOptions);

function counts() {
  return {
    type: 'counts',
    allocations: shell.core.table.size,
    allocationsPeak: shell.core.counters.allocationsPeak,
    allocationsCreated: shell.core.counters.allocationsCreated,
    relayedDatagrams: shell.relayedDatagrams,
    rejected: shell.core.counters.rejectedUnauthenticated + shell.core.counters.peerDenied + shell.core.counters.quotaRejected,
  };
}

shell.start().then(
  (ports) => {
    parentPort!.postMessage({ type: 'ready', port: ports.port });
    const timer = setInterval(() => parentPort!.postMessage(counts()), 1000);
    parentPort!.on('message', (m: { type: string }) => {
      if (m.type !== 'close') return;
      clearInterval(timer);
      void shell.close().then(() => {
        parentPort!.postMessage(counts());
        parentPort!.postMessage({ type: 'closed' });
      });
    });
  },
  (e: unknown) => parentPort!.postMessage({ type: 'failed', message: e instanceof Error ? e.message : 'failed' }),
);
