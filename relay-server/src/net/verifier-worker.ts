/**
 * Worker thread that checks mailbox proofs (protocol v2: Ed25519 over
 * each of the relay's own URLs, well under a millisecond each) off the main thread, so relayed media never waits behind them.
 */
import { parentPort } from 'node:worker_threads';
import { verifyMailboxProof } from '../../../lib/crypto/mailbox-auth';
import type { VerifyAnswer, VerifyJob } from './verifier-messages';

const parent = parentPort;
parent?.on('message', (job: VerifyJob) => {
  const r = verifyMailboxProof(job.challenge, job.urls, job.mailbox, job.key, job.sig);
  const answer: VerifyAnswer = r.ok ? { id: job.id, ok: true, mailbox: r.value } : { id: job.id, ok: false, code: r.error.code };
  parent.postMessage(answer);
});
