/**
 * `--offload`: decides which path call media takes and says why. The kernel
 * path (XDP, kernel-offload.ts) needs Linux, a concrete IPv4 --listen and
 * relay address on one interface, one TURN thread (the maps are filled from
 * the thread that holds the allocations), the built helper and object
 * (relay-server/bpf, `make -C relay-server/bpf`), and the privileges to load
 * and attach XDP (root, or CAP_BPF + CAP_NET_ADMIN). Anything
 * missing: the relay runs as without --offload (userspace) and `reason`
 * says what was missing, at start and in /metrics.
 */
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import type { Family } from '../metrics';
import { DEFAULTS } from '../config';
import { HelperProcess, type XdpMode } from './helper-process';
import { KernelOffload } from './kernel-offload';
import type { OffloadAddresses } from './entries';
import type { TurnCore } from '../turn/core';

/**
 * Where the built helper and object are: HUSH_OFFLOAD_DIR, else relay-server/bpf/out from
 * this source file, else bpf/out of the packed relay (scripts/pack-relay.mjs: lib/ is next to bpf/).
 */
export function offloadDir(): string {
  if (process.env.HUSH_OFFLOAD_DIR) return process.env.HUSH_OFFLOAD_DIR;
  const candidates = [resolve(import.meta.dirname, '../../bpf/out'), resolve(import.meta.dirname, '../bpf/out')];
  return candidates.find((d) => existsSync(resolve(d, HELPER_NAME))) ?? candidates[0]!;
}

export const HELPER_NAME = 'hush-xdp-helper';
export const OBJECT_NAME = 'hush_xdp.bpf.o';

export interface OffloadRequest {
  enabled: boolean;
  listenIp: string;
  listenPort: number;
  relayIp: string;
  threads: number;
  /** XDP attach mode: auto tries native (driver) mode first, then generic (skb). */
  mode: 'auto' | XdpMode;
  /** --max-message (default: the CLI's): ChannelData from a client longer than this is left to userspace, which drops it. */
  maxMessage?: number;
}

export interface Datapath {
  /** 'xdp-native' or 'xdp-skb' when the kernel relays ChannelData, else 'userspace'. */
  readonly path: string;
  /** Why the kernel path is not used (null when it is, or when --offload is off). */
  readonly reason: string | null;
  readonly offload: KernelOffload | null;
  /** One line for the log: which path, on which interface, or why not (no address of any client or peer). */
  describe(): string;
  families(): Family[];
  close(): Promise<void>;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** The interface that holds `ip` (127.0.0.0/8: the loopback interface), or undefined. */
export function interfaceOf(ip: string): string | undefined {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.family === 'IPv4' && (i.address === ip || (i.internal && ip.startsWith('127.')))) return name;
    }
  }
  return undefined;
}

function isLoopback(ifname: string): boolean {
  return (networkInterfaces()[ifname] ?? []).some((i) => i.internal);
}

function forwarding(ifname: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/net/ipv4/conf/${ifname}/forwarding`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Why the kernel path cannot be used with this request, or null. */
export function refusal(r: OffloadRequest, platform = process.platform): string | null {
  if (platform !== 'linux') return `XDP needs Linux (this is ${platform})`;
  if (!IPV4.test(r.listenIp) || r.listenIp === '0.0.0.0') return '--offload needs a concrete IPv4 --listen address (not a wildcard, not IPv6)';
  if (!IPV4.test(r.relayIp) || r.relayIp === '0.0.0.0') return '--offload needs a concrete IPv4 relay address (--relay-ip or --listen)';
  if (r.threads > 1) return '--offload relays media in the kernel from one TURN thread: use --threads 1';
  const a = interfaceOf(r.listenIp);
  const b = interfaceOf(r.relayIp);
  if (a === undefined) return `no interface holds the --listen address`;
  if (a !== b) return 'the --listen and relay addresses are on different interfaces';
  // bpf_fib_lookup (how the program finds the next hop off loopback) answers only on an
  // interface that forwards IPv4; with forwarding off every packet would fall back to userspace.
  if (!isLoopback(a) && forwarding(a) !== '1') {
    return `the kernel finds next hops for XDP only on a forwarding interface: set net.ipv4.conf.${a}.forwarding=1 (docs/operators.md, "Kernel offload")`;
  }
  const dir = offloadDir();
  if (!existsSync(resolve(dir, HELPER_NAME)) || !existsSync(resolve(dir, OBJECT_NAME))) {
    return `the offload helper is not built (${dir}: run make -C relay-server/bpf)`;
  }
  return null;
}

export async function startDatapath<IO>(core: TurnCore<IO>, r: OffloadRequest, onLost: (line: string) => void): Promise<Datapath> {
  let reason: string | null = r.enabled ? refusal(r) : null;
  let offload: KernelOffload | null = null;
  let ifname = '';
  if (r.enabled && reason === null) {
    ifname = interfaceOf(r.listenIp)!;
    const dir = offloadDir();
    try {
      const helper = await HelperProcess.start(resolve(dir, HELPER_NAME), resolve(dir, OBJECT_NAME), ifname, r.mode, r.maxMessage ?? DEFAULTS.maxMessage);
      const at: OffloadAddresses = { listenIp: r.listenIp, listenPort: r.listenPort, relayIp: r.relayIp };
      offload = new KernelOffload(helper, at, (address, port) => core.policy.check(address).allowed && !core.selfPeer(address, port), (why) => {
        lost = why;
        onLost(why);
      });
      core.watcher = offload;
      offload.startPolling();
    } catch (e) {
      reason = `the kernel refused XDP: ${(e as Error).message}`;
    }
  }
  let lost: string | null = null;
  const path = (): string => (offload && offload.active ? `xdp-${offload.helper.mode}` : 'userspace');
  return {
    get path() {
      return path();
    },
    get reason() {
      return lost ?? reason;
    },
    offload,
    describe() {
      if (!r.enabled) return 'datapath: userspace (--offload off)';
      if (offload && offload.active) return `datapath: kernel XDP (${offload.helper.mode} mode) on ${ifname} for ChannelData over UDP/IPv4; everything else in userspace`;
      return `datapath: userspace (--offload: ${lost ?? reason})`;
    },
    families(): Family[] {
      const t = offload?.totals;
      return [
        // No label (metrics.ts: the only labels are a thread, the version, the node, an error code): two gauges.
        { name: 'hush_relay_offload_kernel', type: 'gauge', help: '1 while the kernel (XDP) relays ChannelData over UDP/IPv4, 0 when call media is relayed in userspace (--offload).', samples: [{ value: offload?.active ? 1 : 0 }] },
        { name: 'hush_relay_offload_native', type: 'gauge', help: '1 when the XDP program runs in the driver (native mode), 0 in generic (skb) mode or off.', samples: [{ value: offload?.active && offload.helper.mode === 'native' ? 1 : 0 }] },
        { name: 'hush_relay_offload_packets_total', type: 'counter', help: 'ChannelData datagrams relayed by the kernel (XDP), both directions.', samples: [{ value: t?.packets ?? 0 }] },
        { name: 'hush_relay_offload_bytes_total', type: 'counter', help: 'Application data bytes relayed by the kernel (XDP), both directions, without ChannelData headers.', samples: [{ value: t?.bytes ?? 0 }] },
        { name: 'hush_relay_offload_entries', type: 'gauge', help: 'Channels the kernel forwards right now (each one both directions).', samples: [{ value: t?.entries ?? 0 }] },
        { name: 'hush_relay_offload_installs_total', type: 'counter', help: 'Channels ever handed to the kernel (a refresh is not counted again).', samples: [{ value: t?.installs ?? 0 }] },
        { name: 'hush_relay_offload_helper_errors_total', type: 'counter', help: 'Map updates or counter reads the offload helper refused or did not answer.', samples: [{ value: t?.helperErrors ?? 0 }] },
      ];
    },
    async close() {
      if (core.watcher === offload) core.watcher = undefined;
      await offload?.close();
    },
  };
}
