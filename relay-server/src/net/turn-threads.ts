/**
 * TURN threads (`--threads N`): N-1 worker threads share the one TURN port
 * with the main thread. Node 20 has no SO_REUSEPORT for UDP, so the split is
 * done per allocation: the main thread authenticates each UDP Allocate and
 * hands it (by a hash of the username, so a user's allocations and quota
 * stay in one thread) to a thread, which binds a socket to the same address
 * and port with SO_REUSEADDR and connects it to the client. Linux delivers a
 * datagram to the connected socket that matches its source before the
 * unconnected listener, so from then on that client's traffic, control and
 * media, reaches the thread directly; the main thread never sees it.
 * TCP and TLS allocations stay on the main thread.
 *
 * Caveat: SO_REUSEADDR on the TURN port lets another local process bind it
 * too; run the relay on a host (or container) of its own.
 */
import type { Worker } from 'node:worker_threads';
import { RelayError } from '../errors';
import type { RelayRequest } from '../turn/actions';
import { spawnModuleWorker } from './ts-worker';
import type { TurnShellOptions } from './turn-shell';
import type { AdoptResult, FromTurnThread, ToTurnThread } from './turn-thread-messages';
import { sumTurnStats, ZERO_TURN_STATS, type TurnStats } from './turn-stats';
import type { UdpSharing } from './udp-sharing';

interface Thread {
  worker: Worker;
  counts: TurnStats;
  alive: boolean;
  /** Allocations and EVEN-PORT reservations it holds, by username and client address ("<username>\n<address>"): what the main thread counts for the quotas (per credential, per source and in total). */
  held: Map<string, number>;
}

/** Told when a thread's allocation is made (+1) or gone (-1), so the main thread counts it against the quotas. */
export type HeldCounter = (username: string, address: string, d: 1 | -1) => void;

function post(t: Thread, m: ToTurnThread): void {
  t.worker.postMessage(m);
}

/** Which of `threads` TURN threads (0: the main one) owns credential `key`: an FNV-1a hash, so a credential's allocations stay together. */
export function threadSlot(key: string, threads: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % threads;
}

export class TurnThreads {
  private readonly threads: Thread[] = [];
  private readonly waiting = new Map<number, { thread: number; done: (r: AdoptResult) => void }>();
  private nextId = 1;
  /** Set by the relay: the main core's per-credential and per-source counts (turn/allocation-table.ts countElsewhere). */
  onHeld: HeldCounter | undefined;
  /** Set by the relay: a thread's Refresh deleted an allocation (the main core remembers the answer: turn/recent-answers.ts). */
  onDeleted: ((address: string, port: number, request: Uint8Array, response: Uint8Array) => void) | undefined;

  get size(): number {
    return this.threads.length;
  }

  /** Start `n` threads for a main shell listening on `port` (the port actually bound). */
  async start(n: number, base: TurnShellOptions, port: number, sharing: UdpSharing): Promise<void> {
    for (let i = 0; i < n; i++) {
      const opts: TurnShellOptions = { ...base, port, altPort: null, tlsPort: null, tls: null, handoff: undefined, shareListenPort: undefined, udpSharing: sharing };
      const worker = spawnModuleWorker('turn-thread', opts);
      worker.unref();
      const t: Thread = { worker, alive: true, counts: { ...ZERO_TURN_STATS }, held: new Map() };
      const index = i;
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (m: FromTurnThread) => {
          switch (m.type) {
            case 'ready':
              resolve();
              break;
            case 'counts':
              t.counts = m.counts;
              break;
            case 'adopted': {
              const w = this.waiting.get(m.id);
              this.waiting.delete(m.id);
              w?.done(m.result);
              break;
            }
            case 'released':
              this.held(t, m.username, m.address, -1);
              break;
            case 'deleted':
              this.onDeleted?.(m.address, m.port, m.request, m.response);
              break;
            case 'reservation':
              this.held(t, m.username, m.address, m.d);
              break;
            case 'closed':
              break; // awaited by close()
            default: {
              const never: never = m;
              void never;
            }
          }
        });
        worker.once('error', () => reject(new RelayError('ERR_LISTEN', `TURN thread ${i + 2} failed to start`)));
        // A thread that dies takes its allocations with it; new ones go to the main thread.
        const dead = () => {
          t.alive = false;
          t.counts = { ...t.counts, allocations: 0, tcpConnections: 0 };
          // Its allocations are gone with it.
          for (const [k, n] of t.held) {
            const [username = '', address = ''] = k.split('\n');
            for (let j = 0; j < n; j++) this.onHeld?.(username, address, -1);
          }
          t.held.clear();
          for (const [id, w] of this.waiting) {
            if (w.thread !== index) continue;
            this.waiting.delete(id);
            w.done('failed');
          }
        };
        worker.on('error', dead);
        worker.on('exit', dead);
      });
      this.threads.push(t);
    }
  }

  /** Which thread owns allocations of credential `key` (turn/credentials.ts credentialKey): -1 for the main thread. */
  pick(key: string): number {
    const slot = threadSlot(key, this.threads.length + 1);
    return slot > 0 && this.threads[slot - 1]?.alive === true ? slot - 1 : -1;
  }

  /** Hand `request` to thread `thread` (from pick()); `done` is called once with what became of it. */
  adopt(thread: number, request: RelayRequest, done: (r: AdoptResult) => void): void {
    const t = this.threads[thread];
    if (!t) {
      done('failed');
      return;
    }
    const id = this.nextId++;
    this.waiting.set(id, {
      thread,
      done: (r) => {
        if (r === 'made' && t.alive) this.held(t, request.username, request.tuple.address, 1);
        done(r);
      },
    });
    post(t, { type: 'adopt', id, request });
  }

  private held(t: Thread, username: string, address: string, d: 1 | -1): void {
    const k = `${username}\n${address}`;
    const n = (t.held.get(k) ?? 0) + d;
    if (n < 0) return; // not one it was counted for
    if (n > 0) t.held.set(k, n);
    else t.held.delete(k);
    this.onHeld?.(username, address, d);
  }

  /** The threads' counts, summed (main thread excluded). */
  counts(): TurnStats {
    return sumTurnStats(this.threads.map((t) => t.counts));
  }

  /** Shutting down: threads release allocations that went quiet (their calls moved). */
  drain(): void {
    for (const t of this.threads) if (t.alive) post(t, { type: 'drain' });
  }

  /** Every thread checks TURN credentials against these from now on (SIGHUP). */
  setSecrets(secrets: string[]): void {
    for (const t of this.threads) if (t.alive) post(t, { type: 'secrets', secrets });
  }

  /** A signalling connection's credential ended: threads refuse it after the grace. */
  credentialEnded(key: string, at: number | null): void {
    for (const t of this.threads) if (t.alive) post(t, { type: 'credential-ended', key, at });
  }

  /** Allocations made per thread, main excluded (aggregate counts only). */
  perThread(): number[] {
    return this.threads.map((t) => t.counts.allocationsCreated);
  }

  async close(): Promise<void> {
    for (const w of this.waiting.values()) w.done('failed');
    this.waiting.clear();
    await Promise.all(
      this.threads.filter((t) => t.alive).map(
        (t) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void t.worker.terminate().then(() => resolve()), 3000);
            t.worker.on('message', (m: FromTurnThread) => {
              if (m.type === 'closed') {
                clearTimeout(timer);
                void t.worker.terminate().then(() => resolve());
              }
            });
            post(t, { type: 'close' });
          }),
      ),
    );
  }
}
