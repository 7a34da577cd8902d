/**
 * Extra TURN shells in worker threads (`--threads N` starts N-1 of them next
 * to the main thread's). Each listens on its own port (UDP and TCP) and is
 * announced only through signalling, which gives out ports round-robin.
 * Node 20 has no SO_REUSEPORT for dgram, so ports, not a shared socket,
 * spread the load; threads share no state.
 */
import type { Worker } from 'node:worker_threads';
import { RelayError } from '../errors';
import { spawnModuleWorker } from './ts-worker';
import type { TurnShellOptions } from './turn-shell';

export interface ThreadCounts {
  allocations: number;
  allocationsPeak: number;
  allocationsCreated: number;
  relayedDatagrams: number;
  rejected: number;
}

interface Thread {
  worker: Worker;
  port: number;
  counts: ThreadCounts;
}

export class TurnThreads {
  private readonly threads: Thread[] = [];

  get ports(): number[] {
    return this.threads.map((t) => t.port);
  }

  async start(n: number, base: TurnShellOptions, firstPort: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const port = firstPort === 0 ? 0 : firstPort + i;
      const opts: TurnShellOptions = { ...base, port, altPort: null, tlsPort: null, tls: null };
      const worker = spawnModuleWorker('turn-thread', opts);
      const t: Thread = {
        worker,
        port: 0,
        counts: { allocations: 0, allocationsPeak: 0, allocationsCreated: 0, relayedDatagrams: 0, rejected: 0 },
      };
      t.port = await new Promise<number>((resolve, reject) => {
        worker.on('message', (m: { type: string; port?: number; message?: string } & Partial<ThreadCounts>) => {
          if (m.type === 'ready') resolve(m.port!);
          else if (m.type === 'failed') reject(new RelayError('ERR_LISTEN', `TURN thread ${i + 2}: ${m.message}`));
          else if (m.type === 'counts') t.counts = m as ThreadCounts;
        });
        worker.once('error', () => reject(new RelayError('ERR_LISTEN', `TURN thread ${i + 2} failed to start`)));
      });
      this.threads.push(t);
    }
  }

  counts(): ThreadCounts {
    const sum = { allocations: 0, allocationsPeak: 0, allocationsCreated: 0, relayedDatagrams: 0, rejected: 0 };
    for (const t of this.threads) {
      for (const k of Object.keys(sum) as Array<keyof ThreadCounts>) sum[k] += t.counts[k];
    }
    return sum;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.threads.map(
        (t) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void t.worker.terminate().then(() => resolve()), 3000);
            t.worker.on('message', (m: { type: string }) => {
              if (m.type === 'closed') {
                clearTimeout(timer);
                void t.worker.terminate().then(() => resolve());
              }
            });
            t.worker.postMessage({ type: 'close' });
          }),
      ),
    );
  }
}
