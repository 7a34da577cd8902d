/**
 * Bounded pool of proof-verifying worker threads. At most `workers` proofs
 * run at once, at most `queue` wait, and one source IP may have at most
 * `perSource` in flight; beyond that a proof is answered ERR_BUSY at once,
 * so a flood of auth attempts costs a bounded amount of CPU and memory.
 */
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from './ts-worker';
import type { Verdict, VerifyAnswer, VerifyJob } from './verifier-messages';

const JOB_TIMEOUT_MS = 10_000;
/** The answer to a proof the pool will not check: too many in flight, a crashed worker, a timeout. */
const busy = (): Verdict => ({ ok: false, code: 'ERR_BUSY' });

interface Pending {
  resolve: (v: Verdict) => void;
  source: string;
}

export class VerifierPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly perSourceCount = new Map<string, number>();
  private next = 1;
  private rr = 0;
  private closed = false;

  constructor(
    size: number,
    private readonly maxInFlight: number,
    private readonly perSource = 4,
  ) {
    for (let i = 0; i < size; i++) {
      const w: Worker = spawnModuleWorker('verifier-worker');
      w.unref();
      w.on('message', (m: VerifyAnswer) => this.done(m.id, m.ok ? { ok: true, mailbox: m.mailbox } : { ok: false, code: m.code }));
      const dead = () => {
        // A crashed verifier leaves the pool and fails what was in flight.
        const i = this.workers.indexOf(w);
        if (i >= 0) this.workers.splice(i, 1);
        for (const id of [...this.pending.keys()]) this.done(id, busy());
      };
      w.on('error', dead);
      w.on('exit', dead);
      this.workers.push(w);
    }
  }

  verify(source: string, challenge: Uint8Array, urls: string[], mailbox: string, key: Uint8Array, sig: Uint8Array): Promise<Verdict> {
    const n = this.perSourceCount.get(source) ?? 0;
    const w = this.workers[this.rr % Math.max(this.workers.length, 1)];
    if (this.closed || this.pending.size >= this.maxInFlight || n >= this.perSource || w === undefined) {
      return Promise.resolve(busy());
    }
    this.rr++;
    const id = this.next++;
    this.perSourceCount.set(source, n + 1);
    return new Promise<Verdict>((resolve) => {
      this.pending.set(id, { resolve, source });
      // A proof takes milliseconds; one that takes 10 s is failed, never left hanging.
      setTimeout(() => this.done(id, busy()), JOB_TIMEOUT_MS).unref();
      const job: VerifyJob = { id, challenge, urls, mailbox, key, sig };
      w.postMessage(job);
    });
  }

  private done(id: number, v: Verdict): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    const n = (this.perSourceCount.get(p.source) ?? 1) - 1;
    if (n > 0) this.perSourceCount.set(p.source, n);
    else this.perSourceCount.delete(p.source);
    p.resolve(v);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.done(id, busy());
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
