/**
 * Send indication (RFC 8656 §11.2): indications are not authenticated; the
 * 5-tuple must have an allocation and the peer IP a permission, else the
 * indication is silently discarded. XOR-PEER-ADDRESS and DATA are required.
 * DONT-FRAGMENT is ignored (Linux sets DF by default).
 */
import { Attr } from '../stun/constants';
import { getAttr, type StunMessage } from '../stun/message';
import { decodeXorAddress } from '../stun/xor-address';
import type { TurnAction } from './actions';
import type { ClientTuple } from './allocation';
import { readData } from './attributes';
import type { SendContext } from './context';

export function handleSend<IO>(ctx: SendContext<IO>, tuple: ClientTuple, msg: StunMessage, now: number): TurnAction<IO>[] {
  const a = ctx.table.find(tuple);
  if (!a) return [];
  const pa = getAttr(msg, Attr.XorPeerAddress);
  const data = readData(msg);
  if (!pa || !data) return [];
  const peer = decodeXorAddress(msg.raw.subarray(pa.offset, pa.offset + pa.length), msg.transactionId);
  if (!peer.ok || peer.value.family !== a.relayedAddress.family) return [];
  if (!a.hasPermission(peer.value.address, now)) return [];
  // A permission is per IP (RFC 8656 §9): the relay's own IP may be permitted for its relay ports only.
  if (ctx.selfPeer(peer.value.address, peer.value.port)) return [];
  a.relayedCount++;
  return [{ kind: 'to-peer', allocation: a, address: peer.value.address, port: peer.value.port, data }];
}
