/**
 * TURN attribute values (RFC 8656 §18). Layouts, most significant byte first:
 *
 *   CHANNEL-NUMBER (§18.1)          | Channel Number (16) |  RFFU = 0 (16)  |
 *   LIFETIME (§18.2)                |          seconds (32, unsigned)       |
 *   REQUESTED-TRANSPORT (§18.7)     | Protocol (8) |       RFFU (24)        |
 *   REQUESTED-ADDRESS-FAMILY (§18.8)| Family (8)   |       Reserved (24)    |
 *   EVEN-PORT (§18.9)               |R|  RFFU (7)  |
 *   RESERVATION-TOKEN (§18.10)      |            token (64 bits)            |
 *   DATA (§18.4), DONT-FRAGMENT (§18.8, empty)
 *
 * Each reader returns undefined for an absent attribute and null for a
 * malformed one, so handlers can answer 400 for the latter.
 */
import { Attr, Family } from '../stun/constants';
import { attrValue, getAttr, readU16, readU32, type StunMessage } from '../stun/message';

export function readChannelNumber(msg: StunMessage): number | undefined | null {
  const a = getAttr(msg, Attr.ChannelNumber);
  if (!a) return undefined;
  if (a.length !== 4) return null;
  return readU16(msg.raw, a.offset);
}

export function readLifetime(msg: StunMessage): number | undefined | null {
  const a = getAttr(msg, Attr.Lifetime);
  if (!a) return undefined;
  if (a.length !== 4) return null;
  return readU32(msg.raw, a.offset);
}

export function readRequestedTransport(msg: StunMessage): number | undefined | null {
  const a = getAttr(msg, Attr.RequestedTransport);
  if (!a) return undefined;
  if (a.length !== 4) return null;
  return msg.raw[a.offset]!;
}

/** 4 or 6, undefined if absent, null if malformed or an unknown family. */
export function readRequestedFamily(msg: StunMessage): 4 | 6 | undefined | null {
  const a = getAttr(msg, Attr.RequestedAddressFamily);
  if (!a) return undefined;
  if (a.length !== 4) return null;
  const f = msg.raw[a.offset];
  return f === Family.IPv4 ? 4 : f === Family.IPv6 ? 6 : null;
}

/** EVEN-PORT: {reserveNext} or undefined/null. */
export function readEvenPort(msg: StunMessage): { reserveNext: boolean } | undefined | null {
  const a = getAttr(msg, Attr.EvenPort);
  if (!a) return undefined;
  if (a.length !== 1) return null;
  return { reserveNext: (msg.raw[a.offset]! & 0x80) !== 0 };
}

export function readReservationToken(msg: StunMessage): Uint8Array | undefined | null {
  const a = getAttr(msg, Attr.ReservationToken);
  if (!a) return undefined;
  if (a.length !== 8) return null;
  return attrValue(msg, a);
}

export function readData(msg: StunMessage): Uint8Array | undefined {
  const a = getAttr(msg, Attr.Data);
  return a ? attrValue(msg, a) : undefined;
}
