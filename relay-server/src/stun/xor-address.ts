/**
 * XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS share one
 * format (RFC 8489 §14.2, RFC 8656 §18.3/§18.5):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                X-Address (Variable: 32 or 128 bits)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * X-Port is the port XOR the top 16 bits of the magic cookie; an IPv4
 * X-Address is XOR the cookie, an IPv6 one XOR (cookie ‖ transaction id).
 * The XOR exists so NATs that rewrite addresses in payloads leave it alone.
 */
import { Family, MAGIC_COOKIE } from './constants';
import { err, ok, type Result } from '../errors';
import { formatIp, parseIp } from '../ip';

export interface TransportAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

export function encodeXorAddress(addr: TransportAddress, transactionId: Uint8Array): Uint8Array {
  const ip = parseIp(addr.address);
  if (!ip) throw new TypeError('encodeXorAddress: not an IP address');
  const out = new Uint8Array(4 + ip.length);
  out[1] = ip.length === 4 ? Family.IPv4 : Family.IPv6;
  const xport = addr.port ^ (MAGIC_COOKIE >>> 16);
  out[2] = xport >> 8;
  out[3] = xport & 0xff;
  const mask = xorMask(transactionId);
  for (let i = 0; i < ip.length; i++) out[4 + i] = ip[i]! ^ mask[i]!;
  return out;
}

export function decodeXorAddress(value: Uint8Array, transactionId: Uint8Array): Result<TransportAddress> {
  if (value.length < 4) return err('ERR_MALFORMED', 'address attribute too short');
  const family = value[1];
  const want = family === Family.IPv4 ? 4 : family === Family.IPv6 ? 16 : 0;
  if (want === 0) return err('ERR_MALFORMED', 'unknown address family');
  if (value.length !== 4 + want) return err('ERR_MALFORMED', 'address attribute has the wrong length');
  const port = ((value[2]! << 8) | value[3]!) ^ (MAGIC_COOKIE >>> 16);
  const mask = xorMask(transactionId);
  const ip = new Uint8Array(want);
  for (let i = 0; i < want; i++) ip[i] = value[4 + i]! ^ mask[i]!;
  return ok({ family: want === 4 ? 4 : 6, address: formatIp(ip), port });
}

function xorMask(transactionId: Uint8Array): Uint8Array {
  const m = new Uint8Array(16);
  m[0] = 0x21;
  m[1] = 0x12;
  m[2] = 0xa4;
  m[3] = 0x42;
  m.set(transactionId.subarray(0, 12), 4);
  return m;
}
