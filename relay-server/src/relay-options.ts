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

/**
 * Every address this relay is reached at or sends from (self-peer.ts):
 * listen, relay, announced, signalling and metrics addresses, and every
 * interface address when one of them is a wildcard (the relay answers on all).
 */
export function selfAddresses(cfg: RelayConfig, a: RelayAddresses): string[] {
  const listed = [cfg.listen, a.relayIp, a.announce, cfg.signalListen ?? cfg.listen, cfg.metricsListen];
  const out = new Set(listed.filter((ip) => !isWildcard(ip)));
  if (listed.some(isWildcard)) {
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.add(i.address.replace(/%.*$/, ''));
  }
  return [...out];
}

export function turnShellOptions(cfg: RelayConfig, secrets: string[], tls: TlsMaterial | null, a: RelayAddresses): TurnShellOptions {
  const [secret = ''] = secrets;
  return {
    core: {
      realm: cfg.realm,
      authSecret: secret,
      authSecrets: secrets,
      userQuota: cfg.userQuota,
      sourceQuota: cfg.sourceQuota,
      totalQuota: cfg.totalQuota,
      credentialGraceSec: cfg.credentialGrace,
      allowPeers: cfg.allowPeer,
      allowSelfPeer: cfg.allowSelfPeer,
      families: [a.relayFamily],
      unauthRatePerSec: cfg.unauthRate,
      unauthBurst: cfg.unauthRate * 2,
      sourcePrefix6: cfg.sourcePrefix6,
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
    self: { addresses: selfAddresses(cfg, a), listenerPorts: [], minPort: cfg.minPort, maxPort: cfg.maxPort },
    ownRelayPorts: new SharedArrayBuffer(65536),
  };
}
