/**
 * What the sans-IO core asks its shell to do (style.md §8): the core returns
 * TurnAction[] and never touches a socket; the shell (../net/turn-shell.ts)
 * carries each one out. A `bind-relay` carries the RelayRequest the shell
 * binds a relay socket for, and hands back to TurnCore.relayBound (or, with
 * TURN threads, to another thread: the request is structured-cloneable).
 * Imports types only, from files that import nothing of turn/ back.
 */
import type { StunMessage } from '../stun/message';
import type { Allocation, ClientTuple } from './allocation';

/** An authenticated Allocate waiting for its relay socket (RFC 8656 §7.2). */
export interface RelayRequest {
  /** tupleKey(tuple): the key of TurnCore.pending. */
  tupleKey: string;
  tuple: ClientTuple;
  /** The Allocate request (bytes copied: the shell may reuse its buffers). */
  message: StunMessage;
  username: string;
  key: Uint8Array;
  family: 4 | 6;
  lifetimeSec: number;
  evenPort?: { reserveNext: boolean };
  reservationToken?: Uint8Array;
}

export type TurnAction<IO = unknown> =
  | { kind: 'send'; to: ClientTuple; bytes: Uint8Array }
  | { kind: 'bind-relay'; request: RelayRequest }
  | { kind: 'release-relay'; allocation: Allocation<IO> }
  | { kind: 'to-peer'; allocation: Allocation<IO>; address: string; port: number; data: Uint8Array };
