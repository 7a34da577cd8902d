/**
 * What a TurnCore is configured with, and the defaults (RFC 8656's
 * recommended lifetimes: allocations 600 s up to 3600 s, permissions 300 s,
 * channels 600 s). The operator-facing settings and their documentation are
 * in ../config.ts; this is the core's own view of them. Imports nothing.
 */

export interface TurnCoreConfig {
  realm: string;
  authSecret: string;
  /** Every valid shared secret, `authSecret` first (rotation); default: `authSecret` alone. */
  authSecrets?: readonly string[];
  nonceTtlSec: number;
  defaultLifetimeSec: number;
  maxLifetimeSec: number;
  permissionLifetimeSec: number;
  channelLifetimeSec: number;
  /** Allocations (and EVEN-PORT reservations) per credential: per signalling connection (credential-ledger.ts). */
  userQuota: number;
  /** Allocations (and reservations) per client source address (IPv6: per sourcePrefix6), all credentials together. */
  sourceQuota: number;
  totalQuota: number;
  /** Seconds a credential handed out over signalling stays usable after its connection ended (credential-ledger.ts). */
  credentialGraceSec: number;
  /** Relay address families this server can allocate. */
  families: ReadonlyArray<4 | 6>;
  allowPeers: string[];
  /** Allow the relay's own addresses as peers on any port (self-peer.ts): the operator's explicit choice. */
  allowSelfPeer: boolean;
  /** Unauthenticated answers (401/438/400 before auth) per source IP. */
  unauthRatePerSec: number;
  unauthBurst: number;
  unauthSources: number;
  /** IPv6 sources are keyed by this prefix length for every per-source limit (../source-key.ts). */
  sourcePrefix6: number;
  /**
   * Draining: an allocation relaying fewer than drainQuietRate packets a second, measured over
   * drainQuietSamples ticks in a row (one a second), has moved or ended and is released.
   */
  drainQuietRate: number;
  drainQuietSamples: number;
}

export const DEFAULT_TURN_CONFIG: Omit<TurnCoreConfig, 'realm' | 'authSecret'> = {
  nonceTtlSec: 600,
  defaultLifetimeSec: 600,
  maxLifetimeSec: 3600,
  permissionLifetimeSec: 300,
  channelLifetimeSec: 600,
  userQuota: 10,
  // 5 % of the total: twenty sources are needed to fill the relay. A NAT shared by many people
  // (an office) shares it too; its operator raises it (docs/operators.md).
  sourceQuota: 100,
  totalQuota: 2000,
  credentialGraceSec: 120,
  families: [4],
  allowPeers: [],
  allowSelfPeer: false,
  unauthRatePerSec: 50,
  unauthBurst: 100,
  unauthSources: 4096,
  sourcePrefix6: 64,
  // Voice is 50 packets a second each way (silence too: no DTX); a moved call's old pair sees 1-2
  // connectivity checks a second, an ended one nothing. Two quiet seconds in a row tell them apart.
  drainQuietRate: 5,
  drainQuietSamples: 2,
};
