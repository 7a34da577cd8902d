/**
 * The network lab: a small internet built from Linux network namespaces, so
 * real processes (the relay, Chromium) talk through real NAT routers.
 *
 *                         <prefix>-inet  ("the internet")
 *        relay 203.0.113.10, gateway 203.0.113.254 on bridge br0
 *        default route -> "sink" (veth, ARP off): unknown addresses vanish
 *               |  wan-a                         |  wan-b
 *     wan 203.0.113.1                   wan 203.0.113.2
 *       <prefix>-rtrA  (nftables NAT)     <prefix>-rtrB  (nftables NAT)
 *     lan 10.200.1.1                    lan 10.200.2.1
 *               |                                |
 *     eth0 10.200.1.2                   eth0 10.200.2.2
 *       <prefix>-hostA (Chromium)         <prefix>-hostB (Chromium)
 *
 * Every veth pair is created with both ends already inside lab namespaces
 * (`ip -n A link add X type veth peer name Y netns B`), so no lab interface
 * ever exists in the root namespace and nothing is routed to the host's own
 * interfaces. IPv6 is off in the lab. Each namespace gets
 * /etc/netns/<ns>/resolv.conf pointing at its own closed loopback, which
 * `ip netns exec` bind-mounts over /etc/resolv.conf: nothing in the lab asks
 * the host's resolver.
 *
 * NAT modes (docs/lab.md has the rulesets): `eim` is masquerade
 * (endpoint-independent mapping) plus the home-router firewall rule
 * `iifname "wan" ct state new drop`, without which hole punching fails (the
 * router's own ICMP reply to an early inbound probe claims the port in
 * conntrack); `eim-open` is masquerade without that rule (hole punching
 * fails, as lab-notes.md says); `symmetric` is `masquerade fully-random`
 * (a new port per destination).
 *
 * Cleanup: destroy() kills every process the lab spawned and every process
 * still inside its namespaces (`ip netns pids`), then deletes the namespaces
 * (which deletes their interfaces and nft tables). It also runs from the
 * process's exit, SIGINT and SIGTERM hooks. A run killed with SIGKILL leaves
 * its namespaces behind: cleanupStaleLabs() (called by every createLab)
 * removes them, identifying a crashed run's lab by the owner file it wrote
 * under /run/hush-lab before creating anything, whose owner process is gone.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { LabCommandError, run, runSync, type RunOptions, type RunResult } from './commands';

export { LabCommandError } from './commands';

export type NsRole = 'inet' | 'rtrA' | 'rtrB' | 'hostA' | 'hostB';
export type Side = 'A' | 'B';
export type NatMode = 'eim' | 'eim-open' | 'symmetric';

export interface NatOptions {
  /** Drop UDP from this side's LAN to ip:port, or to every port of ip (a firewall that lets only TCP reach the relay). */
  blockUdpTo?: { ip: string; port?: number };
}

export interface NatConfig extends NatOptions {
  mode: NatMode;
}

export interface LabOptions {
  /** NAT on router A (default eim). */
  natA?: NatMode | NatConfig;
  /** NAT on router B (default eim). */
  natB?: NatMode | NatConfig;
}

/** The lab's addresses. The same in every lab: namespaces keep concurrent labs apart. */
export const LAB_ADDRESSES = {
  relay: '203.0.113.10',
  /** A second relay on the internet bridge (issue 15: two relays, startLabRelay's `ip`). */
  relay2: '203.0.113.11',
  inetGateway: '203.0.113.254',
  inetPrefix: '203.0.113.0/24',
  wanA: '203.0.113.1',
  wanB: '203.0.113.2',
  routerLanA: '10.200.1.1',
  routerLanB: '10.200.2.1',
  hostA: '10.200.1.2',
  hostB: '10.200.2.2',
  lanA: '10.200.1.0/24',
  lanB: '10.200.2.0/24',
  lans: '10.200.0.0/16',
} as const;
export type LabAddresses = typeof LAB_ADDRESSES;

export interface Lab {
  /** e.g. "hlk3x": every namespace is `${prefix}-${role}`. */
  readonly prefix: string;
  readonly ns: Readonly<Record<NsRole, string>>;
  readonly addresses: LabAddresses;
  /** Run a command inside a lab namespace (`ip netns exec`), checked; resolves with its output. */
  exec(ns: NsRole | string, cmd: string, args?: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Start a long-running process inside a lab namespace; destroy() kills it (and its process group). */
  spawnIn(ns: NsRole | string, cmd: string, args?: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** Replace router A's or B's NAT ruleset and forget its old mappings. */
  setNat(router: Side | 'rtrA' | 'rtrB', mode: NatMode, opts?: NatOptions): Promise<void>;
  /** The NAT currently configured on a router. */
  nat(router: Side | 'rtrA' | 'rtrB'): NatConfig;
  /** Drop all traffic between the two routers' WAN addresses on the internet bridge; the relay stays reachable. */
  cutDirect(): Promise<void>;
  restoreDirect(): Promise<void>;
  /**
   * Run `fn` when the lab is destroyed, after its processes are gone (also
   * from the exit hooks, so it must be synchronous): temp dirs of browsers
   * and servers that lived in the lab.
   */
  onDestroy(fn: () => void): void;
  /** Idempotent. Kills the lab's processes, deletes its namespaces and files. */
  destroy(): Promise<void>;
}

const ROLES: readonly NsRole[] = ['inet', 'rtrA', 'rtrB', 'hostA', 'hostB'];
/** A lab namespace name; the prefix is "hl" and three base-36 characters. */
const LAB_NS_RE = /^(hl[0-9a-z]{3})-(inet|rtrA|rtrB|hostA|hostB)$/;
const OWNER_DIR = '/run/hush-lab';
const NETNS_ETC = '/etc/netns';
const NAT_TABLE = 'hushlab';
const CUT_TABLE = 'hushcut';

// ---------------------------------------------------------------- skipping

export interface LabSupport {
  /** True when the lab tests must not run here (not root, no `ip netns`, a tool missing). */
  skip: boolean;
  reason?: string;
}

/**
 * Whether the lab can run here. Not root, or `ip netns` unusable, or a tool
 * missing: skip, with a message saying why. Under `npm run test:lab` (or
 * HUSH_LAB_STRICT=1) as root, a missing piece is an error, not a skip: the
 * lab is expected to run there, so a broken machine must fail the run.
 */
export function requireRoot(): LabSupport {
  const strict = process.env.npm_lifecycle_event === 'test:lab' || process.env.HUSH_LAB_STRICT === '1';
  if (process.getuid?.() !== 0) {
    const reason = 'network lab skipped: it needs root (network namespaces, nftables); run `sudo npm run test:lab`';
    warnOnce(reason);
    return { skip: true, reason };
  }
  const problems: string[] = [];
  try {
    runSync('ip', ['netns', 'list']);
    // Root without CAP_SYS_ADMIN (some containers) can list but not create: try one.
    const probe = `hush-lab-probe-${process.pid}`;
    runSync('ip', ['netns', 'add', probe]);
    runSync('ip', ['netns', 'delete', probe]);
  } catch (e) {
    problems.push(`network namespaces are unavailable (${(e as Error).message}); install iproute2, run as real root`);
  }
  for (const [tool, pkg] of [['nft', 'nftables'], ['conntrack', 'conntrack']] as const) {
    try {
      runSync(tool, ['--version']);
    } catch {
      problems.push(`\`${tool}\` is missing; apt-get install -y ${pkg}`);
    }
  }
  if (problems.length === 0) return { skip: false };
  const reason = `network lab cannot run: ${problems.join('; ')}`;
  if (strict) throw new Error(reason);
  warnOnce(reason);
  return { skip: true, reason };
}

const warned = new Set<string>();
function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  console.warn(msg);
}

// ------------------------------------------------------- process lifetime

const liveLabs = new Set<LabImpl>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', destroyAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      destroyAllSync();
      // Let the signal do what it would have done without us.
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function destroyAllSync(): void {
  for (const lab of liveLabs) lab.destroySync();
}

/** The kernel's start time of a process (field 22 of /proc/PID/stat), to tell a reused pid apart. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

interface OwnerRecord {
  pid: number;
  start: string | null;
  namespaces: string[];
}

// ------------------------------------------------------------ stale labs

/**
 * Remove what crashed runs left: namespaces named like ours whose owner file
 * under /run/hush-lab names a process that no longer runs. A namespace that
 * merely looks like ours but has no owner file is left alone: we cannot
 * tell it is ours. Returns the namespaces removed.
 */
export async function cleanupStaleLabs(): Promise<string[]> {
  const removed: string[] = [];
  const byPrefix = new Map<string, string[]>();
  for (const name of await listNamespaces()) {
    const m = LAB_NS_RE.exec(name);
    if (!m) continue;
    byPrefix.set(m[1]!, [...(byPrefix.get(m[1]!) ?? []), name]);
  }
  // Owner files whose namespaces are all gone are stale too.
  if (existsSync(OWNER_DIR)) {
    for (const f of readdirSync(OWNER_DIR)) {
      const prefix = f.replace(/\.json$/, '');
      if (/^hl[0-9a-z]{3}$/.test(prefix) && !byPrefix.has(prefix)) byPrefix.set(prefix, []);
    }
  }
  for (const [prefix, names] of byPrefix) {
    const owner = readOwner(prefix);
    if (!owner) continue;
    if (processStart(owner.pid) !== null && processStart(owner.pid) === owner.start) continue; // still running
    for (const name of names) {
      await killNamespaceProcesses(name);
      await run('ip', ['netns', 'delete', name]);
      removeNetnsEtc(name);
      removed.push(name);
    }
    removeOwner(prefix);
  }
  return removed;
}

async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

function ownerFile(prefix: string): string {
  return `${OWNER_DIR}/${prefix}.json`;
}

function removeOwner(prefix: string): void {
  rmSync(ownerFile(prefix), { force: true });
  try {
    rmdirSync(OWNER_DIR); // only if no other lab is running
  } catch {
    // not empty
  }
}

function readOwner(prefix: string): OwnerRecord | null {
  try {
    return JSON.parse(readFileSync(ownerFile(prefix), 'utf8')) as OwnerRecord;
  } catch {
    return null;
  }
}

async function killNamespaceProcesses(ns: string): Promise<void> {
  const pids = await namespacePids(ns);
  for (const pid of pids) killQuietly(pid, 'SIGKILL');
}

async function namespacePids(ns: string): Promise<number[]> {
  try {
    const { stdout } = await run('ip', ['netns', 'pids', ns]);
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // namespace already gone
  }
}

function killQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function removeNetnsEtc(ns: string): void {
  rmSync(`${NETNS_ETC}/${ns}`, { recursive: true, force: true });
  try {
    rmdirSync(NETNS_ETC); // only if empty: others may keep files there
  } catch {
    // not empty or not there
  }
}

// ------------------------------------------------------------ the rulesets

/** The router's nft ruleset: NAT on the WAN, the home-router firewall, the UDP block. */
export function natRuleset(cfg: NatConfig): string {
  const masq = cfg.mode === 'symmetric' ? 'masquerade fully-random' : 'masquerade';
  const firewall = cfg.mode === 'eim-open' ? '' : 'iifname "wan" ct state new drop';
  const block = cfg.blockUdpTo
    ? `oifname "wan" ip daddr ${cfg.blockUdpTo.ip} ${cfg.blockUdpTo.port === undefined ? 'meta l4proto udp' : `udp dport ${cfg.blockUdpTo.port}`} drop`
    : '';
  return `table ip ${NAT_TABLE} {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" ${masq}
  }
  chain input {
    type filter hook input priority filter; policy accept;
    ${firewall}
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ${firewall}
    ${block}
  }
}
`;
}

/** The internet bridge's cut: nothing passes between the two WAN addresses. */
export function cutRuleset(a: string, b: string): string {
  return `table bridge ${CUT_TABLE} {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr ${a} ip daddr ${b} drop
    ip saddr ${b} ip daddr ${a} drop
  }
}
`;
}

function natConfig(m: NatMode | NatConfig | undefined): NatConfig {
  if (m === undefined) return { mode: 'eim' };
  return typeof m === 'string' ? { mode: m } : m;
}

// ------------------------------------------------------------------ the lab

class LabImpl implements Lab {
  readonly ns: Readonly<Record<NsRole, string>>;
  readonly addresses = LAB_ADDRESSES;
  private readonly created: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly cleanups: Array<() => void> = [];
  private readonly nats: Record<Side, NatConfig> = { A: { mode: 'eim' }, B: { mode: 'eim' } };
  private destroyed = false;

  constructor(readonly prefix: string) {
    this.ns = Object.fromEntries(ROLES.map((r) => [r, `${prefix}-${r}`])) as Record<NsRole, string>;
  }

  private name(ns: NsRole | string): string {
    const n = (ROLES as readonly string[]).includes(ns) ? this.ns[ns as NsRole] : ns;
    if (!Object.values(this.ns).includes(n)) throw new Error(`${ns} is not a namespace of lab ${this.prefix}`);
    return n;
  }

  exec(ns: NsRole | string, cmd: string, args: readonly string[] = [], opts?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name(ns), cmd, ...args], opts);
  }

  /** `ip -n NS ...`: iproute2 commands inside a namespace. */
  private ip(ns: NsRole, ...args: string[]): Promise<RunResult> {
    return run('ip', ['-n', this.ns[ns], ...args]);
  }

  spawnIn(ns: NsRole | string, cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error(`lab ${this.prefix} is destroyed`);
    // `ip netns exec` execs the command in place: the child's pid is the command's.
    // detached: its own process group, so destroy() can kill what it forks too.
    const child = spawn('ip', ['netns', 'exec', this.name(ns), cmd, ...args], { stdio: 'pipe', ...opts, detached: true });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  async build(natA: NatConfig, natB: NatConfig): Promise<void> {
    mkdirSync(OWNER_DIR, { recursive: true });
    const owner: OwnerRecord = { pid: process.pid, start: processStart(process.pid), namespaces: Object.values(this.ns) };
    writeFileSync(ownerFile(this.prefix), JSON.stringify(owner));

    for (const role of ROLES) {
      const n = this.ns[role];
      // resolv.conf first: `ip netns exec` bind-mounts it; a closed loopback answers at once.
      mkdirSync(`${NETNS_ETC}/${n}`, { recursive: true });
      writeFileSync(`${NETNS_ETC}/${n}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
      await run('ip', ['netns', 'add', n]);
      this.created.push(n);
      await this.ip(role, 'link', 'set', 'lo', 'up');
      await this.exec(role, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    const A = LAB_ADDRESSES;

    // The internet: one bridge, the relay's address and a gateway on it, and a sink as default route.
    await this.ip('inet', 'link', 'add', 'br0', 'type', 'bridge');
    await this.ip('inet', 'addr', 'add', `${A.relay}/24`, 'dev', 'br0');
    await this.ip('inet', 'addr', 'add', `${A.inetGateway}/24`, 'dev', 'br0');
    await this.ip('inet', 'link', 'set', 'br0', 'up');
    await this.ip('inet', 'link', 'add', 'sink', 'type', 'veth', 'peer', 'name', 'sink-end');
    await this.ip('inet', 'link', 'set', 'sink', 'arp', 'off', 'up');
    await this.ip('inet', 'link', 'set', 'sink-end', 'arp', 'off', 'up');
    await this.ip('inet', 'route', 'add', 'default', 'dev', 'sink');
    await this.exec('inet', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);

    // Two homes: router (WAN on the bridge, LAN to the host) and host.
    for (const side of ['A', 'B'] as const) {
      const rtr = `rtr${side}` as const;
      const host = `host${side}` as const;
      const wanPort = `wan-${side.toLowerCase()}`;
      await this.ip(rtr, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', wanPort, 'netns', this.ns.inet);
      await this.ip('inet', 'link', 'set', wanPort, 'master', 'br0', 'up');
      await this.ip(rtr, 'addr', 'add', `${A[`wan${side}`]}/24`, 'dev', 'wan');
      await this.ip(rtr, 'link', 'set', 'wan', 'up');
      await this.ip(rtr, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns[host]);
      await this.ip(rtr, 'addr', 'add', `${A[`routerLan${side}`]}/24`, 'dev', 'lan');
      await this.ip(rtr, 'link', 'set', 'lan', 'up');
      await this.ip(rtr, 'route', 'add', 'default', 'via', A.inetGateway);
      await this.exec(rtr, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      await this.ip(host, 'addr', 'add', `${A[`host${side}`]}/24`, 'dev', 'eth0');
      await this.ip(host, 'link', 'set', 'eth0', 'up');
      await this.ip(host, 'route', 'add', 'default', 'via', A[`routerLan${side}`]);
    }
    await this.setNat('A', natA.mode, natA);
    await this.setNat('B', natB.mode, natB);
  }

  private side(router: Side | 'rtrA' | 'rtrB'): Side {
    if (router === 'A' || router === 'rtrA') return 'A';
    if (router === 'B' || router === 'rtrB') return 'B';
    throw new Error(`no router ${String(router)}: use 'A' or 'B'`);
  }

  async setNat(router: Side | 'rtrA' | 'rtrB', mode: NatMode, opts: NatOptions = {}): Promise<void> {
    const side = this.side(router);
    const cfg: NatConfig = { mode, ...(opts.blockUdpTo ? { blockUdpTo: opts.blockUdpTo } : {}) };
    // One transaction: create-if-missing, delete, recreate. No moment without a firewall.
    const script = `add table ip ${NAT_TABLE}\ndelete table ip ${NAT_TABLE}\n${natRuleset(cfg)}`;
    await this.exec(`rtr${side}`, 'nft', ['-f', '-'], { input: script });
    // Old mappings would keep the old behaviour for their flows: forget them.
    await this.exec(`rtr${side}`, 'conntrack', ['-F']);
    this.nats[side] = cfg;
  }

  nat(router: Side | 'rtrA' | 'rtrB'): NatConfig {
    return { ...this.nats[this.side(router)] };
  }

  async cutDirect(): Promise<void> {
    const script = `add table bridge ${CUT_TABLE}\ndelete table bridge ${CUT_TABLE}\n${cutRuleset(LAB_ADDRESSES.wanA, LAB_ADDRESSES.wanB)}`;
    await this.exec('inet', 'nft', ['-f', '-'], { input: script });
  }

  async restoreDirect(): Promise<void> {
    await this.exec('inet', 'nft', ['-f', '-'], { input: `add table bridge ${CUT_TABLE}\ndelete table bridge ${CUT_TABLE}\n` });
  }

  onDestroy(fn: () => void): void {
    this.cleanups.push(fn);
  }

  private runCleanups(): string[] {
    const errors: string[] = [];
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        fn();
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    return errors;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const errors: string[] = [];
    // Our own children first, politely, then whatever is left in the namespaces.
    const exits = [...this.children].map(
      (c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))),
    );
    for (const c of this.children) if (c.pid) killQuietly(-c.pid, 'SIGTERM');
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 3000))]);
    for (const c of this.children) if (c.pid) killQuietly(-c.pid, 'SIGKILL');
    for (const n of this.created) {
      for (const pid of await namespacePids(n)) killQuietly(pid, 'SIGKILL');
    }
    for (const n of [...this.created].reverse()) {
      try {
        await run('ip', ['netns', 'delete', n]);
      } catch (e) {
        errors.push((e as Error).message);
      }
      removeNetnsEtc(n);
    }
    for (const role of ROLES) removeNetnsEtc(this.ns[role]); // also the ones whose `ip netns add` failed
    this.created.length = 0;
    errors.push(...this.runCleanups());
    removeOwner(this.prefix);
    liveLabs.delete(this);
    if (errors.length) throw new Error(`lab ${this.prefix} cleanup: ${errors.join('; ')}`);
  }

  /** destroy() for the exit hook: synchronous, no politeness. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) if (c.pid) killQuietly(-c.pid, 'SIGKILL');
    for (const n of [...this.created].reverse()) {
      try {
        const pids = runSync('ip', ['netns', 'pids', n]).stdout.split(/\s+/).filter(Boolean).map(Number);
        for (const pid of pids) killQuietly(pid, 'SIGKILL');
        runSync('ip', ['netns', 'delete', n]);
      } catch {
        // best effort at exit; cleanupStaleLabs() finishes the job next run
      }
      removeNetnsEtc(n);
    }
    for (const role of ROLES) removeNetnsEtc(this.ns[role]);
    this.runCleanups();
    removeOwner(this.prefix);
    liveLabs.delete(this);
  }
}

async function freshPrefix(): Promise<string> {
  const taken = new Set((await listNamespaces()).map((n) => LAB_NS_RE.exec(n)?.[1]).filter(Boolean));
  for (let i = 0; i < 100; i++) {
    const p = `hl${(randomBytes(2).readUInt16BE(0) % 46656).toString(36).padStart(3, '0')}`;
    if (!taken.has(p) && !existsSync(ownerFile(p))) return p;
  }
  throw new Error('no free lab prefix: too many labs (clean up with cleanupStaleLabs())');
}

/**
 * Build a lab. On any failure what was built is torn down again and the
 * error names the command that failed.
 */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  installExitHooks();
  await cleanupStaleLabs();
  const lab = new LabImpl(await freshPrefix());
  liveLabs.add(lab);
  try {
    await lab.build(natConfig(opts.natA), natConfig(opts.natB));
  } catch (e) {
    await lab.destroy().catch(() => {});
    throw e instanceof LabCommandError ? new Error(`building lab ${lab.prefix}: ${e.message}`, { cause: e }) : e;
  }
  return lab;
}
