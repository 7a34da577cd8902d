/**
 * STUN wire constants (RFC 8489 §5, §14, §18; TURN additions from RFC 8656 §18).
 * Each name is the wire name from the IANA registry; each value says where it
 * comes from. One file so a reader can audit every number that goes on a wire.
 */

/** Fixed value in every STUN header since RFC 5389 (RFC 8489 §5). */
export const MAGIC_COOKIE = 0x2112a442;
/** Header is 20 bytes: type(2) length(2) cookie(4) transaction id(12). */
export const HEADER_LEN = 20;
export const TRANSACTION_ID_LEN = 12;
/** Attribute header: type(2) length(2); values padded to 4 bytes (RFC 8489 §14). */
export const ATTR_HEADER_LEN = 4;

/** Methods (RFC 8489 §18.2, RFC 8656 §17). */
export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const;

/** Classes, already shifted into the C1/C0 bit positions of the type field (RFC 8489 §5). */
export const Class = {
  Request: 0x0000,
  Indication: 0x0010,
  Success: 0x0100,
  Error: 0x0110,
} as const;
export type StunClass = (typeof Class)[keyof typeof Class];

/** Attribute types (RFC 8489 §18.3, RFC 8656 §18). */
export const Attr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  EvenPort: 0x0018,
  RequestedTransport: 0x0019,
  DontFragment: 0x001a,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  ReservationToken: 0x0022,
  Priority: 0x0024, // ICE (RFC 8445), ignored here
  UseCandidate: 0x0025, // ICE, ignored here
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
  ResponseOrigin: 0x802b,
  OtherAddress: 0x802c,
  AdditionalAddressFamily: 0x8000,
} as const;

/** Attributes 0x0000-0x7FFF are comprehension-required (RFC 8489 §14). */
export function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

/** ERROR-CODE values (RFC 8489 §14.8, RFC 8656 §18.11) with their standard reason phrases. */
export const ErrorCode = {
  TryAlternate: 300,
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  UnknownAttribute: 420,
  AllocationMismatch: 437,
  StaleNonce: 438,
  AddressFamilyNotSupported: 440,
  WrongCredentials: 441,
  UnsupportedTransportProtocol: 442,
  PeerAddressFamilyMismatch: 443,
  AllocationQuotaReached: 486,
  ServerError: 500,
  InsufficientCapacity: 508,
} as const;

export const REASON: Record<number, string> = {
  300: 'Try Alternate',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  486: 'Allocation Quota Reached',
  500: 'Server Error',
  508: 'Insufficient Capacity',
};

/** Address family byte in (XOR-)MAPPED-ADDRESS (RFC 8489 §14.1). */
export const Family = { IPv4: 0x01, IPv6: 0x02 } as const;

/** FINGERPRINT is CRC-32 of the message XOR this ("STUN" in ASCII, RFC 8489 §14.7). */
export const FINGERPRINT_XOR = 0x5354554e;

/** IANA protocol number for UDP, the only REQUESTED-TRANSPORT we relay (RFC 8656 §18.7). */
export const TRANSPORT_UDP = 17;

/**
 * ChannelData channel numbers. RFC 8656 §12 narrowed the range to
 * 0x4000-0x4FFF, but RFC 5766 clients (coturn's own turnutils_uclient among
 * them) still pick numbers up to 0x7FFF, and 0b01 in the top bits still
 * tells ChannelData from STUN there, so like coturn we accept 0x4000-0x7FFF.
 */
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x7fff;
export const CHANNEL_DATA_HEADER_LEN = 4;
