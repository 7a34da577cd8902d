/**
 * From the operator's config to what the TURN shell is started with: where
 * relay sockets bind and which address is announced for them (a wildcard
 * listen address announces the first public IPv4, or loopback), and the
 * shell's options (config.ts documents every setting).
 */
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { RelayConfig } from './config';
import type { TurnShellOptions } from './net/turn-shell';
import type { TlsMaterial } from './relay-files';

export function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

function firstPublicV4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return undefined;
}

/** Where relay sockets bind, the address announced for them, and the host put in TURN URLs. */
export interface RelayAddresses {
  relayIp: string;
  relayFamily: 4 | 6;
  announce: string;
  host: string;
}

export function relayAddresses(cfg: RelayConfig): RelayAddresses {
  const relayIp = cfg.relayIp ?? (isWildcard(cfg.listen) ? (cfg.listen === '::' ? '::' : '0.0.0.0') : cfg.listen);
  const relayFamily: 4 | 6 = relayIp.includes(':') ? 6 : 4;
  const announce = cfg.externalIp ?? (isWildcard(relayIp) ? (relayFamily === 4 ? firstPublicV4() ?? '127.0.0.1' : '::1') : relayIp);
  const host = cfg.publicHost ?? (isWildcard(cfg.listen) ? announce : cfg.listen);
  return { relayIp, relayFamily, announce, host };
}

export function turnShellOptions(cfg: RelayConfig, secrets: string[], tls: TlsMaterial | null, a: RelayAddresses): TurnShellOptions {
  const [secret = ''] = secrets;
  return {
    core: {
      realm: cfg.realm,
      authSecret: secret,
      authSecrets: secrets,
      userQuota: cfg.userQuota,
      totalQuota: cfg.totalQuota,
      allowPeers: cfg.allowPeer,
      families: [a.relayFamily],
      unauthRatePerSec: cfg.unauthRate,
      unauthBurst: cfg.unauthRate * 2,
    },
    listen: cfg.listen,
    port: cfg.port,
    altPort: cfg.altPort,
    tlsPort: cfg.tlsPort,
    tls,
    relayBind: { 4: a.relayFamily === 4 ? a.relayIp : null, 6: a.relayFamily === 6 ? a.relayIp : null },
    relayAnnounce: { 4: a.relayFamily === 4 ? a.announce : null, 6: a.relayFamily === 6 ? a.announce : null },
    minPort: cfg.minPort,
    maxPort: cfg.maxPort,
    maxMessage: cfg.maxMessage,
    nonceKey: randomBytes(32),
  };
}
