/**
 * Worker thread that checks mailbox proofs (ML-DSA-87 + Ed25519, 5-20 ms of
 * CPU each) off the main thread, so relayed media never waits behind them.
 */
import { parentPort } from 'node:worker_threads';
import { verifyMailboxProof } from '../../../lib/crypto/mailbox-auth';
import type { VerifyAnswer, VerifyJob } from './verifier-messages';

const parent = parentPort;
parent?.on('message', (job: VerifyJob) => {
  const r = verifyMailboxProof(job.challenge, job.origin, job.bundle, job.sig);
  const answer: VerifyAnswer = r.ok ? { id: job.id, ok: true, mailbox: r.value } : { id: job.id, ok: false, code: r.error.code };
  parent.postMessage(answer);
});
