/**
 * The relay's own transport addresses as peers (docs/hardening.md, "The relay
 * never relays to itself"). An allocation whose peer is the relay's own TURN
 * port turns every ChannelData it relays into a new client message: chained
 * through K allocations, one packet is forwarded K times (issue 22 measured
 * K ≈ 1,000). coturn 4.6 allows this by default (its operators must list
 * their own IP in `denied-peer-ip`).
 *
 * So a peer on one of the relay's own addresses (listen, relay, external,
 * every interface address when bound to a wildcard) is denied (403) unless
 * its port is a relay port: inside the relay range and not a UDP listener
 * (TURN, alternate STUN). A relay port is another allocation on this relay:
 * two clients of one relay talking relay-to-relay (both in privacy mode)
 * is an ordinary call, one forward and no loop, because a relay socket never
 * reads what arrives as a client request. The shell also drops anything
 * reaching a UDP listener from one of its own relay sockets (turn-shell.ts),
 * so no allocation can ever be made through the relay itself.
 * `allowSelfPeer` (the operator's explicit choice) turns the denial off.
 *
 * Addresses are compared as bytes, an IPv4-mapped IPv6 spelling as its IPv4
 * address; pure, no I/O (the shell lists the interface addresses).
 */
import { parseIp } from '../ip';

export interface SelfPeerConfig {
  /** Every address of this relay host that its sockets are bound to or announced as. */
  addresses: readonly string[];
  /** UDP listener ports (TURN, alternate STUN): a peer there would be a client. */
  listenerPorts: readonly number[];
  minPort: number;
  maxPort: number;
}

/** 4-byte key for IPv4 and ::ffff:a.b.c.d, 16-byte key otherwise. */
function addressKey(address: string): string | undefined {
  const b = parseIp(address);
  if (!b) return undefined;
  const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return Buffer.from(mapped ? b.subarray(12) : b).toString('hex');
}

export class SelfPeers {
  private readonly keys = new Set<string>();
  private readonly listeners: ReadonlySet<number>;

  constructor(private readonly c: SelfPeerConfig) {
    for (const a of c.addresses) {
      const k = addressKey(a);
      if (k !== undefined) this.keys.add(k);
    }
    this.listeners = new Set(c.listenerPorts);
  }

  /** Whether `address` is one of the relay's own. */
  isOwnAddress(address: string): boolean {
    const k = addressKey(address);
    return k !== undefined && this.keys.has(k);
  }

  /** True if `address`:`port` is the relay itself but not one of its relay ports: deny. */
  denies(address: string, port: number): boolean {
    if (this.keys.size === 0 || !this.isOwnAddress(address)) return false;
    return this.listeners.has(port) || port < this.c.minPort || port > this.c.maxPort;
  }
}
