/**
 * The one message union each way between the main thread and a TURN thread
 * (turn-threads.ts ↔ turn-thread.ts), discriminated on `type` (style.md §6).
 * Everything here crosses a structured clone: plain data only.
 */
import type { RelayRequest } from '../turn/actions';
import type { TurnStats } from './turn-stats';

/**
 * What became of an allocation handed to a thread: 'made'; 'refused' (an
 * error answer was sent); 'failed' (nothing sent: the main thread answers 508).
 */
export type AdoptResult = 'made' | 'refused' | 'failed';

/** Main thread → TURN thread. */
export type ToTurnThread =
  /** Take over this authenticated UDP Allocate; answered by 'adopted' with the same id. */
  | { type: 'adopt'; id: number; request: RelayRequest }
  /** Shutting down: refuse new allocations, release quiet ones. */
  | { type: 'drain' }
  /** Check TURN credentials against these from now on (SIGHUP). */
  | { type: 'secrets'; secrets: string[] }
  /** The signalling connections of credential id `key` ended at `at` (ms; null: a reconnect took it back): refused after the grace (turn/credential-ledger.ts). */
  | { type: 'credential-ended'; key: string; at: number | null }
  /** Release everything; answered by 'closed'. */
  | { type: 'close' };

/** TURN thread → main thread. */
export type FromTurnThread =
  | { type: 'ready' }
  /** The thread's aggregate counts: every second, after each adoption, and last before 'closed'. */
  | { type: 'counts'; counts: TurnStats }
  | { type: 'adopted'; id: number; result: AdoptResult }
  /** An allocation this thread held was released: the main thread stops counting it for the quotas. */
  | { type: 'released'; username: string; address: string }
  /** An EVEN-PORT reservation this thread holds was made (+1) or ended (-1): counted for the quotas as an allocation. */
  /** A Refresh deleted an allocation here: the main thread answers its retransmissions the same (turn/recent-answers.ts). */
  | { type: 'deleted'; address: string; port: number; request: Uint8Array; response: Uint8Array }
  | { type: 'reservation'; username: string; address: string; d: 1 | -1 }
  | { type: 'closed' };
