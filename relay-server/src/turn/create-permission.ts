/**
 * CreatePermission (RFC 8656 §9.2):
 *  - no allocation: 437;
 *  - each XOR-PEER-ADDRESS must decode (else 400), be of the allocation's
 *    family (else 443) and pass the peer policy (else 403, peer-policy.ts);
 *    all or nothing: "the server MUST NOT install any permission" on failure;
 *  - installs or refreshes a 300 s permission per peer IP (ports ignored);
 *    past MAX_PERMISSIONS peer IPs on the allocation: 508, none installed.
 */
import { ErrorCode } from '../stun/constants';
import type { StunMessage } from '../stun/message';
import type { TurnAction } from './actions';
import { MAX_PERMISSIONS, type Allocation, type ClientTuple } from './allocation';
import type { PermissionContext } from './context';
import { failure, success } from './responses';

export function handleCreatePermission<IO>(
  ctx: PermissionContext<IO>,
  tuple: ClientTuple,
  msg: StunMessage,
  key: Uint8Array,
  a: Allocation<IO> | undefined,
  now: number,
): TurnAction<IO>[] {
  const send = (bytes: Uint8Array): TurnAction<IO>[] => [{ kind: 'send', to: tuple, bytes }];
  if (!a) return send(failure(msg, ErrorCode.AllocationMismatch, { key }));
  const p = ctx.peerAddresses(msg);
  if (!p.ok) return send(failure(msg, p.code, { key, reason: p.reason }));
  if (p.peers.some((peer) => peer.family !== a.relayedAddress.family)) {
    return send(failure(msg, ErrorCode.PeerAddressFamilyMismatch, { key }));
  }
  const fresh = new Set(p.peers.map((peer) => peer.address).filter((ip) => a.permission(ip) === undefined));
  if (a.permissionCount + fresh.size > MAX_PERMISSIONS) return send(failure(msg, ErrorCode.InsufficientCapacity, { key }));
  const exp = now + ctx.config.permissionLifetimeSec * 1000;
  for (const peer of p.peers) a.installPermission(peer.address, exp);
  return send(success(msg, [], key));
}
