/**
 * Worker thread that checks mailbox proofs (ML-DSA-87 + Ed25519, 5-20 ms of
 * CPU each) off the main thread, so relayed media never waits behind them.
 */
import { parentPort } from 'node:worker_threads';
import { verifyMailboxProof } from '../../../lib/crypto/mailbox-auth';

interface Job {
  id: number;
  challenge: Uint8Array;
  origin: string;
  bundle: Uint8Array;
  sig: Uint8Array;
}

parentPort?.on('message', (job: Job) => {
  const r = verifyMailboxProof(job.challenge, job.origin, job.bundle, job.sig);
  parentPort!.postMessage(r.ok ? { id: job.id, ok: true, mailbox: r.value } : { id: job.id, ok: false, code: r.error.code });
});
