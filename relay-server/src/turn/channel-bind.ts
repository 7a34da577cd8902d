/**
 * ChannelBind (RFC 8656 §12.2), checks in the RFC's order:
 *  - no allocation: 437;
 *  - CHANNEL-NUMBER missing or outside 0x4000-0x7FFF (constants.ts): 400;
 *  - exactly one XOR-PEER-ADDRESS, decodable, of the allocation's family
 *    (443), allowed by the peer policy (403);
 *  - "The channel number is not currently bound to a different transport
 *    address" and "the transport address is not currently bound to a
 *    different channel number": else 400;
 *  - binds or refreshes the channel for 600 s and installs or refreshes the
 *    permission for the peer IP (300 s), as §12.2 requires; past
 *    MAX_CHANNELS channels or MAX_PERMISSIONS peer IPs on the allocation: 508.
 */
import { ErrorCode } from '../stun/constants';
import type { StunMessage } from '../stun/message';
import type { TurnAction } from './actions';
import { Channel, MAX_CHANNELS, MAX_PERMISSIONS, type Allocation, type ClientTuple } from './allocation';
import { readChannelNumber } from './attributes';
import { isValidChannel } from './channel-data';
import type { ChannelBindContext } from './context';
import { failure, success } from './responses';

export function handleChannelBind<IO>(
  ctx: ChannelBindContext<IO>,
  tuple: ClientTuple,
  msg: StunMessage,
  key: Uint8Array,
  a: Allocation<IO> | undefined,
  now: number,
): TurnAction<IO>[] {
  const send = (bytes: Uint8Array): TurnAction<IO>[] => [{ kind: 'send', to: tuple, bytes }];
  const fail = (code: number, reason?: string) => send(failure(msg, code, { key, reason }));
  if (!a) return fail(ErrorCode.AllocationMismatch);
  const number = readChannelNumber(msg);
  if (number === undefined || number === null || !isValidChannel(number)) return fail(ErrorCode.BadRequest, 'Bad Request: channel number');
  const p = ctx.peerAddresses(msg);
  if (!p.ok) return fail(p.code, p.reason);
  if (p.peers.length !== 1) return fail(ErrorCode.BadRequest);
  const peer = p.peers[0]!;
  if (peer.family !== a.relayedAddress.family) return fail(ErrorCode.PeerAddressFamilyMismatch);
  const byNumber = a.channel(number);
  const byPeer = a.channelByPeer(peer.address, peer.port);
  if (byNumber && byNumber !== byPeer) return fail(ErrorCode.BadRequest, 'Bad Request: channel bound to another peer');
  if (byPeer && byPeer.number !== number) return fail(ErrorCode.BadRequest, 'Bad Request: peer bound to another channel');
  if ((!byNumber && a.channelCount >= MAX_CHANNELS) || (a.permission(peer.address) === undefined && a.permissionCount >= MAX_PERMISSIONS)) {
    return fail(ErrorCode.InsufficientCapacity);
  }
  const exp = now + ctx.config.channelLifetimeSec * 1000;
  if (byNumber) byNumber.expiresAt = exp;
  else a.bindChannel(new Channel(number, peer.address, peer.port, exp, a));
  a.installPermission(peer.address, now + ctx.config.permissionLifetimeSec * 1000);
  return send(success(msg, [], key));
}
