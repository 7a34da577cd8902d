/**
 * Worker-thread entry for `--threads N`: a TURN shell that owns the UDP
 * allocations the main thread hands it (turn-threads.ts). It binds no
 * listener of its own; each adopted allocation brings a socket connected to
 * its client on the shared port, and its relay socket. Reports aggregate
 * counts only. Messages both ways: turn-thread-messages.ts.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { EndedCredentials } from '../turn/credential-ledger';
import { DEFAULT_TURN_CONFIG } from '../turn/config';
import { TurnShell, type TurnShellOptions } from './turn-shell';
import type { FromTurnThread, ToTurnThread } from './turn-thread-messages';

function parentOf(port: MessagePort | null): MessagePort {
  if (!port) throw new Error('turn-thread.ts runs as a worker thread (net/turn-threads.ts starts it)');
  return port;
}

const parent = parentOf(parentPort);
const post = (m: FromTurnThread): void => parent.postMessage(m);
const options = workerData as TurnShellOptions;
const shell = new TurnShell(options);
shell.startAdopter();
// Credentials of ended signalling connections, as the main thread reports them (turn/credential-ledger.ts).
const graceMs = (options.core.credentialGraceSec ?? DEFAULT_TURN_CONFIG.credentialGraceSec) * 1000;
const ended = new EndedCredentials(graceMs, graceMs + (options.core.maxLifetimeSec ?? DEFAULT_TURN_CONFIG.maxLifetimeSec) * 1000);
shell.core.setLiveness(ended);
shell.core.onReleased = (a) => post({ type: 'released', username: a.username, address: a.tuple.address });
shell.core.onDeleted = (address, port, request, response) => post({ type: 'deleted', address, port, request: request.slice(), response: response.slice() });
shell.core.reservations.onChange = (username, address, d) => post({ type: 'reservation', username, address, d });

const postCounts = (): void => post({ type: 'counts', counts: shell.stats() });

const timer = setInterval(() => {
  postCounts();
  ended.sweep(Date.now());
}, 1000);
parent.on('message', (m: ToTurnThread) => {
  switch (m.type) {
    case 'secrets':
      shell.core.setSecrets(m.secrets);
      break;
    case 'credential-ended':
      ended.end(m.key, m.at);
      break;
    case 'drain':
      shell.core.draining = true;
      break;
    case 'adopt':
      void shell.adopt(m.request).then((result) => {
        post({ type: 'adopted', id: m.id, result });
        postCounts();
      });
      break;
    case 'close':
      clearInterval(timer);
      void shell.close().then(() => {
        postCounts();
        post({ type: 'closed' });
      });
      break;
    default: {
      const never: never = m;
      void never;
    }
  }
});
post({ type: 'ready' });
