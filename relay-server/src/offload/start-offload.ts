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
import type { FastUdp } from '../net/fast-udp';
import { forwarderRefusal, NativeForwarder } from '../native/forwarder';

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
  /**
   * --forwarder: the native forwarder's threads (native/forwarder.ts) and the main UDP
   * listener they read; used when the kernel path is off or refused.
   */
  forwarder?: { threads: number; listener: FastUdp<number> | undefined };
}

export interface Datapath {
  /** 'xdp-native' or 'xdp-skb' when the kernel relays ChannelData, 'forwarder' when the native forwarder does, else 'userspace'. */
  readonly path: string;
  /** Why the kernel path is not used (null when it is, or when --offload is off). */
  readonly reason: string | null;
  readonly offload: KernelOffload | null;
  readonly forwarder: NativeForwarder | null;
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

/** Starts the native forwarder on the main listener, or says why not (null: it runs). */
function startForwarder<IO>(core: TurnCore<IO>, r: OffloadRequest, at: OffloadAddresses, onLost: (why: string) => void): { offload: KernelOffload; forwarder: NativeForwarder } | string {
  const req = r.forwarder!;
  const refused = forwarderRefusal();
  if (refused) return refused;
  if (!req.listener) return 'the main UDP listener is not open';
  let fwd: NativeForwarder;
  try {
    fwd = NativeForwarder.start(req.threads, r.maxMessage ?? DEFAULTS.maxMessage);
  } catch (e) {
    return `the native forwarder did not start: ${(e as Error).message}`;
  }
  if (!req.listener.tapReads('listener', r.listenPort)) {
    void fwd.close();
    return 'the main UDP listener cannot be handed to the native forwarder (IPv6, or not a Node the fast path knows)';
  }
  const offload = new KernelOffload(fwd, at, (address, port) => core.policy.check(address).allowed && !core.selfPeer(address, port), onLost);
  core.watcher = offload;
  offload.startPolling();
  return { offload, forwarder: fwd };
}

export async function startDatapath<IO>(core: TurnCore<IO>, r: OffloadRequest, onLost: (line: string) => void): Promise<Datapath> {
  let reason: string | null = r.enabled ? refusal(r) : null;
  let offload: KernelOffload | null = null;
  let forwarder: NativeForwarder | null = null;
  let forwarderReason: string | null = null;
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
  const at: OffloadAddresses = { listenIp: r.listenIp, listenPort: r.listenPort, relayIp: r.relayIp };
  if (r.forwarder && !(offload && offload.active)) {
    const started = startForwarder(core, r, at, (why) => {
      lost = why;
      onLost(why);
    });
    if (typeof started === 'string') forwarderReason = started;
    else ({ offload, forwarder } = started);
  }
  const path = (): string => (forwarder ? (forwarder.alive ? 'forwarder' : 'userspace') : offload && offload.active ? `xdp-${(offload.helper as HelperProcess).mode}` : 'userspace');
  const kernel = (): boolean => forwarder === null && offload !== null && offload.active;
  return {
    get path() {
      return path();
    },
    get reason() {
      return lost ?? (forwarder ? null : (forwarderReason ?? reason));
    },
    offload,
    forwarder,
    describe() {
      const xdp = r.enabled ? ` (--offload: ${lost ?? reason})` : '';
      if (forwarder && forwarder.alive) return `datapath: native forwarder, ${forwarder.threads} thread(s), for ChannelData over UDP/IPv4; everything else in JavaScript${r.enabled ? xdp : ''}`;
      if (kernel()) return `datapath: kernel XDP (${(offload!.helper as HelperProcess).mode} mode) on ${ifname} for ChannelData over UDP/IPv4; everything else in userspace`;
      if (r.forwarder) return `datapath: userspace (--forwarder: ${lost ?? forwarderReason})${xdp}`;
      if (!r.enabled) return 'datapath: userspace (--offload off)';
      return `datapath: userspace (--offload: ${lost ?? reason})`;
    },
    families(): Family[] {
      const t = offload?.totals;
      // The addon's counters outlive a forwarder that stopped: counters never go back.
      const fwdTotals = forwarder?.totals();
      return [
        // No label (metrics.ts: the only labels are a thread, the version, the node, an error code): two gauges.
        { name: 'hush_relay_offload_kernel', type: 'gauge', help: '1 while the kernel (XDP) relays ChannelData over UDP/IPv4, 0 when call media is relayed in userspace (--offload).', samples: [{ value: kernel() ? 1 : 0 }] },
        { name: 'hush_relay_offload_native', type: 'gauge', help: '1 when the XDP program runs in the driver (native mode), 0 in generic (skb) mode or off.', samples: [{ value: kernel() && (offload!.helper as HelperProcess).mode === 'native' ? 1 : 0 }] },
        { name: 'hush_relay_forwarder', type: 'gauge', help: '1 while the native forwarder (--forwarder) relays ChannelData over UDP/IPv4 in its C threads, else 0.', samples: [{ value: forwarder?.alive ? 1 : 0 }] },
        { name: 'hush_relay_forwarder_threads', type: 'gauge', help: 'Threads of the native forwarder (--forwarder, --threads), 0 when it is off.', samples: [{ value: forwarder?.alive ? forwarder.threads : 0 }] },
        { name: 'hush_relay_forwarder_to_js_total', type: 'counter', help: 'Datagrams the native forwarder handed to JavaScript (no entry: requests, indications, unknown channels).', samples: [{ value: fwdTotals?.toJs ?? 0 }] },
        { name: 'hush_relay_forwarder_dropped_total', type: 'counter', help: 'Datagrams the native forwarder lost: a send refused (full buffer, unroutable), a datagram cut short, a batch JavaScript could not take.', samples: [{ value: (fwdTotals?.sendErrors ?? 0) + (fwdTotals?.truncated ?? 0) + (fwdTotals?.jsDropped ?? 0) }] },
        { name: 'hush_relay_forwarder_thread_errors_total', type: 'counter', help: 'Native forwarder threads that stopped on an error (the forwarder then stops and JavaScript relays everything: restart the relay to get it back).', samples: [{ value: fwdTotals?.threadErrors ?? 0 }] },
        { name: 'hush_relay_offload_packets_total', type: 'counter', help: 'ChannelData datagrams relayed by the fast path (the kernel with --offload, the native forwarder with --forwarder), both directions.', samples: [{ value: t?.packets ?? 0 }] },
        { name: 'hush_relay_offload_bytes_total', type: 'counter', help: 'Application data bytes relayed by the fast path (kernel or native forwarder), both directions, without ChannelData headers.', samples: [{ value: t?.bytes ?? 0 }] },
        { name: 'hush_relay_offload_entries', type: 'gauge', help: 'Channels the fast path (kernel or native forwarder) forwards right now (each one both directions).', samples: [{ value: t?.entries ?? 0 }] },
        { name: 'hush_relay_offload_installs_total', type: 'counter', help: 'Channels ever handed to the fast path (a refresh is not counted again).', samples: [{ value: t?.installs ?? 0 }] },
        { name: 'hush_relay_offload_helper_errors_total', type: 'counter', help: 'Map updates or counter reads the offload helper refused or did not answer.', samples: [{ value: t?.helperErrors ?? 0 }] },
      ];
    },
    async close() {
      if (core.watcher === offload) core.watcher = undefined;
      await offload?.close();
    },
  };
}
