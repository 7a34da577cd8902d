/**
 * The one message union each way between the verifier pool
 * (verifier-pool.ts) and its worker threads (verifier-worker.ts). Plain data
 * only: it crosses a structured clone.
 */

/** A mailbox proof to check (lib/crypto/mailbox-auth.ts verifyMailboxProof). */
export interface VerifyJob {
  id: number;
  challenge: Uint8Array;
  /** This relay's own canonical URLs (signal/own-urls.ts): the proof must sign one of them. */
  urls: string[];
  mailbox: string;
  /** The per-relay Ed25519 key the client logs in with. */
  key: Uint8Array;
  sig: Uint8Array;
}

/** The outcome of a proof: the mailbox it opens, or an error code for the client. */
export type Verdict = { ok: true; mailbox: string } | { ok: false; code: string };

/** Worker → pool: the verdict on job `id`. */
export type VerifyAnswer = { id: number } & Verdict;
