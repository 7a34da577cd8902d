/**
 * Allocate (RFC 8656 §7.2), after authentication (auth.ts). The steps as the
 * RFC numbers them, and what this server does:
 *
 *  2. "The server checks if the 5-tuple is currently in use by an existing
 *     allocation. If yes, the server rejects the request with a 437
 *     (Allocation Mismatch) error" — unless it is a retransmission of the
 *     request that made it, which gets the same success response again.
 *  3. REQUESTED-TRANSPORT missing or malformed: 400; not UDP: 442.
 *  4. DONT-FRAGMENT: accepted; Linux sends relayed UDP with DF set by default.
 *  5. RESERVATION-TOKEN together with EVEN-PORT or REQUESTED-ADDRESS-FAMILY:
 *     400. An unknown token: 508 (the shell finds none).
 *  6. EVEN-PORT: honoured by the shell (even port, and the next one
 *     reserved if R is set).
 *  7. REQUESTED-ADDRESS-FAMILY unknown: 440 (RFC 8656 §7.2 says 440 for an
 *     unsupported family too).
 *  8. Quotas: the credential's allocation count (486 Allocation Quota
 *     Reached; a credential is one signalling connection's, its refreshes
 *     included: credential-ledger.ts), the client source's count, all its
 *     credentials together (486 too), and the server total (508 Insufficient
 *     Capacity), which counts every TURN thread's allocations and reservations
 *     (the main thread decides; table.relayTotal). EVEN-PORT reservations count as allocations (each holds a
 *     socket: reservations.ts), and so do Allocates still waiting for their
 *     relay socket (else a burst of them would all pass); an Allocate with
 *     R=1 needs room for two. A draining server (shutting
 *     down, docs/operators.md) answers every new Allocate 508 too: the client's
 *     ICE agent then uses its other servers.
 *  Lifetime: max(default, min(requested, maximum)).
 * The relay socket is bound by the shell (a `bind-relay` action); the
 * success answer is sent from TurnCore.relayBound once it is.
 */
import { ErrorCode } from '../stun/constants';
import type { StunMessage } from '../stun/message';
import { TRANSPORT_UDP } from '../stun/constants';
import type { RelayRequest, TurnAction } from './actions';
import { tupleKey, type Allocation, type ClientTuple } from './allocation';
import { readEvenPort, readLifetime, readRequestedFamily, readRequestedTransport, readReservationToken } from './attributes';
import { hex } from './bytes';
import type { AllocateContext } from './context';
import { credentialKey } from './credentials';
import { sourceKey } from '../source-key';
import { failure } from './responses';

export function handleAllocate<IO>(
  ctx: AllocateContext<IO>,
  tuple: ClientTuple,
  msg: StunMessage,
  username: string,
  key: Uint8Array,
  existing: Allocation<IO> | undefined,
  now: number,
): TurnAction<IO>[] {
  const reply = (code: number, reason?: string): TurnAction<IO>[] => [
    { kind: 'send', to: tuple, bytes: failure(msg, code, { key, reason }) },
  ];
  // 2.
  if (existing) {
    // A retransmission has the transaction id and the username of the request that made it.
    if (existing.createdBy(msg.transactionId) && existing.username === username) return [{ kind: 'send', to: tuple, bytes: existing.createdResponse }];
    return reply(ErrorCode.AllocationMismatch);
  }
  const k = tupleKey(tuple);
  const pending = ctx.pending.get(k);
  if (pending) {
    return hex(pending.message.transactionId) === hex(msg.transactionId) ? [] : reply(ErrorCode.AllocationMismatch);
  }
  if (ctx.draining) {
    ctx.counters.drainRefused++;
    return reply(ErrorCode.InsufficientCapacity, 'Insufficient Capacity: server shutting down');
  }
  // 3.
  const transport = readRequestedTransport(msg);
  if (transport === undefined || transport === null) return reply(ErrorCode.BadRequest, 'Bad Request: REQUESTED-TRANSPORT missing');
  if (transport !== TRANSPORT_UDP) return reply(ErrorCode.UnsupportedTransportProtocol);
  // 5., 6., 7.
  const token = readReservationToken(msg);
  const even = readEvenPort(msg);
  const family = readRequestedFamily(msg);
  if (token === null || even === null) return reply(ErrorCode.BadRequest);
  if (token && (even || family !== undefined)) return reply(ErrorCode.BadRequest);
  if (family === null) return reply(ErrorCode.AddressFamilyNotSupported);
  const fam = family ?? 4;
  if (!ctx.config.families.includes(fam)) return reply(ErrorCode.AddressFamilyNotSupported);
  const lifetime = readLifetime(msg);
  if (lifetime === null) return reply(ErrorCode.BadRequest);
  // 8.
  // A reserving Allocate takes two places; one using a token fills the place its reservation held.
  const places = even?.reserveNext ? 2 : token ? 0 : 1;
  const user = credentialKey(username);
  const source = sourceKey(tuple.address, ctx.config.sourcePrefix6);
  let pendingUser = 0;
  let pendingSource = 0;
  for (const p of ctx.pending.values()) {
    const n = placesOf(p);
    if (credentialKey(p.username) === user) pendingUser += n;
    if (sourceKey(p.tuple.address, ctx.config.sourcePrefix6) === source) pendingSource += n;
  }
  if (ctx.table.userCount(username) + ctx.reservations.userCount(username) + pendingUser + places > ctx.config.userQuota) {
    ctx.counters.quotaRejected++;
    return reply(ErrorCode.AllocationQuotaReached, 'Allocation Quota Reached: this credential has its share');
  }
  if (ctx.table.sourceCount(source) + ctx.reservations.sourceCount(source) + pendingSource + places > ctx.config.sourceQuota) {
    ctx.counters.quotaRejected++;
    ctx.counters.sourceQuotaRejected++;
    return reply(ErrorCode.AllocationQuotaReached, 'Allocation Quota Reached: this address has its share');
  }
  if (ctx.table.relayTotal + ctx.pending.size + ctx.reservations.size + places > ctx.config.totalQuota) {
    ctx.counters.quotaRejected++;
    return reply(ErrorCode.InsufficientCapacity);
  }
  const { defaultLifetimeSec: def, maxLifetimeSec: max } = ctx.config;
  const lifetimeSec = Math.max(def, Math.min(lifetime ?? def, max));
  const raw = msg.raw.slice();
  const request: RelayRequest = {
    tupleKey: k,
    tuple,
    message: { ...msg, raw, transactionId: raw.subarray(8, 20) },
    username,
    key,
    family: fam,
    lifetimeSec,
    evenPort: even,
    reservationToken: token ? token.slice() : undefined,
  };
  ctx.pending.set(k, request);
  return [{ kind: 'bind-relay', request }];
}

/** Places a waiting Allocate will take: two if it reserves the next port, none if it uses a reservation. */
function placesOf(r: RelayRequest): number {
  return r.evenPort?.reserveNext ? 2 : r.reservationToken ? 0 : 1;
}
