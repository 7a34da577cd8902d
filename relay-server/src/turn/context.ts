/**
 * The part of TurnCore that the request handlers see (allocate.ts,
 * refresh.ts, create-permission.ts, channel-bind.ts, send-indication.ts).
 * TurnCore implements TurnContext; each handler takes a Pick of it, just
 * what it reads or changes, so a handler can be driven by a small fake and
 * the handlers never import the core (no import circle). Types only.
 */
import type { StunMessage } from '../stun/message';
import type { TransportAddress } from '../stun/xor-address';
import type { RelayRequest, TurnAction } from './actions';
import type { Allocation } from './allocation';
import type { AllocationTable } from './allocation-table';
import type { TurnCoreConfig } from './config';
import type { Reservations } from './reservations';

/** Aggregate counters: never per user, address or call. */
export interface TurnCounters {
  allocationsCreated: number;
  allocationsPeak: number;
  rejectedUnauthenticated: number;
  /** Requests that carried MESSAGE-INTEGRITY and failed (wrong or expired credentials); stale nonces not counted. */
  authFailed: number;
  /** New Allocates refused because the server is draining (shutting down). */
  drainRefused: number;
  rateLimited: number;
  peerDenied: number;
  quotaRejected: number;
  /** Of quotaRejected: refused by the per-source quota. */
  sourceQuotaRejected: number;
  /** Requests refused because the signalling connection their credential came from is gone (credential-ledger.ts). */
  credentialGone: number;
  malformed: number;
}

/** Every XOR-PEER-ADDRESS of a request, decoded and allowed by the peer policy, or the error to answer. */
export type PeerAddresses = { ok: true; peers: TransportAddress[] } | { ok: false; code: number; reason?: string };

export interface TurnContext<IO = unknown> {
  readonly config: TurnCoreConfig;
  readonly table: AllocationTable<IO>;
  /** Authenticated Allocates waiting for their relay socket, by tupleKey. */
  readonly pending: Map<string, RelayRequest>;
  /** EVEN-PORT reservations, counted against the quotas. */
  readonly reservations: Reservations;
  readonly counters: TurnCounters;
  /** Shutting down: new Allocates are refused 508. */
  readonly draining: boolean;
  /** Remove an allocation; the actions release its relay socket. */
  release(a: Allocation<IO>): TurnAction<IO>[];
  /** Decode and policy-check every XOR-PEER-ADDRESS of `msg` (counts peerDenied). */
  peerAddresses(msg: StunMessage): PeerAddresses;
  /** The peer is the relay itself, not one of its relay ports (self-peer.ts): deny. */
  selfPeer(address: string, port: number): boolean;
}

export type AllocateContext<IO> = Pick<TurnContext<IO>, 'config' | 'table' | 'pending' | 'reservations' | 'counters' | 'draining'>;
export type RefreshContext<IO> = Pick<TurnContext<IO>, 'config' | 'release'>;
export type PermissionContext<IO> = Pick<TurnContext<IO>, 'config' | 'peerAddresses'>;
export type ChannelBindContext<IO> = Pick<TurnContext<IO>, 'config' | 'peerAddresses'>;
export type SendContext<IO> = Pick<TurnContext<IO>, 'table' | 'selfPeer'>;
