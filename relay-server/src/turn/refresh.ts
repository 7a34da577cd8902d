/**
 * Refresh (RFC 8656 §7.3):
 *  - no allocation on this 5-tuple: 437 (Allocation Mismatch);
 *  - REQUESTED-ADDRESS-FAMILY that differs from the allocation's: 443;
 *  - LIFETIME 0 deletes the allocation (answered with LIFETIME 0, the answer
 *    sent before the release: a TURN thread's socket to the client closes with it;
 *    retransmissions get the same answer: recent-answers.ts);
 *  - otherwise lifetime = min(requested or default, maximum).
 */
import { Attr, ErrorCode } from '../stun/constants';
import type { StunMessage } from '../stun/message';
import type { TurnAction } from './actions';
import type { Allocation, ClientTuple } from './allocation';
import { readLifetime, readRequestedFamily } from './attributes';
import { u32 } from './bytes';
import type { RefreshContext } from './context';
import { failure, success } from './responses';

export function handleRefresh<IO>(
  ctx: RefreshContext<IO>,
  tuple: ClientTuple,
  msg: StunMessage,
  key: Uint8Array,
  a: Allocation<IO> | undefined,
  now: number,
): TurnAction<IO>[] {
  const send = (bytes: Uint8Array): TurnAction<IO> => ({ kind: 'send', to: tuple, bytes });
  if (!a) return [send(failure(msg, ErrorCode.AllocationMismatch, { key }))];
  const fam = readRequestedFamily(msg);
  if (fam === null) return [send(failure(msg, ErrorCode.BadRequest, { key }))];
  if (fam !== undefined && fam !== a.relayedAddress.family) return [send(failure(msg, ErrorCode.PeerAddressFamilyMismatch, { key }))];
  const requested = readLifetime(msg);
  if (requested === null) return [send(failure(msg, ErrorCode.BadRequest, { key }))];
  if (requested === 0) {
    // The answer first: in a TURN thread, releasing closes the socket connected to the client.
    const answer = send(success(msg, [[Attr.Lifetime, u32(0)]], key));
    return [answer, ...ctx.release(a)];
  }
  const lifetimeSec = Math.min(requested ?? ctx.config.defaultLifetimeSec, ctx.config.maxLifetimeSec);
  a.expiresAt = now + lifetimeSec * 1000;
  return [send(success(msg, [[Attr.Lifetime, u32(lifetimeSec)]], key))];
}
