/**
 * Worker-thread entry for `--threads N`: a TURN shell that owns the UDP
 * allocations the main thread hands it (turn-threads.ts). It binds no
 * listener of its own; each adopted allocation brings a socket connected to
 * its client on the shared port, and its relay socket. Reports aggregate
 * counts only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TurnShell, type TurnShellOptions } from './turn-shell';
import type { RelayRequest } from '../turn/actions';

const shell = new TurnShell(workerData as TurnShellOptions);
shell.startAdopter();

function counts() {
  return { type: 'counts', ...shell.stats() };
}

const timer = setInterval(() => parentPort!.postMessage(counts()), 1000);
parentPort!.on('message', (m: { type: string; id?: number; request?: RelayRequest; secrets?: string[] }) => {
  if (m.type === 'secrets') {
    shell.core.setSecrets(m.secrets!);
  } else if (m.type === 'drain') {
    shell.core.draining = true;
  } else if (m.type === 'adopt') {
    void shell.adopt(m.request!).then((result) => {
      parentPort!.postMessage({ type: 'adopted', id: m.id, result });
      parentPort!.postMessage(counts());
    });
  } else if (m.type === 'close') {
    clearInterval(timer);
    void shell.close().then(() => {
      parentPort!.postMessage(counts());
      parentPort!.postMessage({ type: 'closed' });
    });
  }
});
parentPort!.postMessage({ type: 'ready' });
