/**
 * Floods against a relay on loopback (docs/hardening.md), modelled on
 * coturn's load scripts (turnutils_uclient -m N clients, 170-byte RTP-like
 * packets) and pushed past them into abuse: allocations from one username and
 * from many, unauthenticated requests from many sources and ports, invalid
 * datagrams and TCP streams, WebSocket connections, messages and bad proofs.
 * Each flood returns what it sent and how the relay answered, counted by the
 * flooder itself; the bench and the integration test add the relay's own
 * counters (/metrics), its memory (/proc) and a live call's quality.
 *
 * Sources: Linux answers from every 127.0.0.0/8 address on `lo`, so "many
 * source IPs" are 127.0.x.y bound locally. Nothing leaves loopback.
 */
import { METRICS_AUTH } from './metrics';
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Attr, Class, Method } from '../../relay-server/src/stun/constants';
import { fingerprintOf } from '../../relay-server/src/stun/fingerprint';
import { attrValue, decodeStun, getAttr, StunWriter } from '../../relay-server/src/stun/message';
import { encodeXorAddress } from '../../relay-server/src/stun/xor-address';
import { decodeErrorCode } from '../../relay-server/src/stun/error-code';
import { turnPassword } from '../../relay-server/src/turn/credentials';
import { integrityWith, longTermKey } from '../../relay-server/src/stun/integrity';
import { proveMailbox } from '../../lib/crypto/mailbox-auth';
import { canonicalForm } from '../../lib/signal/relay-url';
import { authFrame } from './signal-client';
import type { Identity } from '../../lib/crypto/identity';
import { TurnTestClient } from './turn-client';
import type { RelayProcess } from './relay';
import type { CallWindow, LiveCall } from './live-call';
import { parsePrometheus } from './metrics';
import { sleep } from './wait';

/** `count` loopback source addresses in block 127.0.`block`.0/24 (127.0.0.1 excluded). */
export function sources(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${block}.${(i % 254) + 1}`);
}

const tally = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);
const tick = () => new Promise<void>((r) => setImmediate(r));

// ─────────────────────────────── the relay ───────────────────────────────

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function processCpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name; clock ticks of 1/100 s.
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Open files of a process (Linux /proc). */
export function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident and peak resident memory of a process, bytes (Linux /proc). */
export function processMemory(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Reset the peak RSS (VmHWM) of a process so the next reading is this flood's peak; false if not allowed. */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** /metrics as numbers, whether the relay serves JSON or the Prometheus text format. */
export async function relayMetrics(signalPort: number): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${signalPort}/metrics`, { headers: METRICS_AUTH });
  const text = await res.text();
  const out: Record<string, number> = {};
  if (text.trimStart().startsWith('{')) {
    for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, unknown>)) if (typeof v === 'number') out[k] = v;
    return out;
  }
  for (const [sample, v] of Object.entries(parsePrometheus(text))) out[sample.replace(/^hush_relay_/, '')] = v;
  return out;
}

/** The counters that changed between two scrapes. */
export function metricsDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (!/_total|rateLimited|quotaRejected|rejected|malformed|dropped/.test(k)) continue;
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Does the relay still answer: a STUN Binding on the TURN port, a WebSocket challenge, /healthz. */
export async function stillAnswering(turnPort: number, signalPort: number): Promise<{ stun: boolean; signal: boolean; health: boolean }> {
  const c = new TurnTestClient({ host: '127.0.0.1', port: turnPort }, 'x', 'x');
  await new Promise<void>((r) => c.socket.bind(0, '127.0.9.1', () => r()));
  const stun = (await c.binding()) !== undefined;
  c.close();
  const signal = await new Promise<boolean>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${signalPort}/signal`, { localAddress: '127.0.9.2' });
    const t = setTimeout(() => (ws.terminate(), resolve(false)), 5000);
    ws.on('message', (d) => {
      clearTimeout(t);
      ws.close();
      resolve(String(d).includes('"challenge"'));
    });
    ws.on('error', () => (clearTimeout(t), resolve(false)));
  });
  let health = false;
  try {
    const r = await fetch(`http://127.0.0.1:${signalPort}/healthz`);
    health = r.ok || (await fetch(`http://127.0.0.1:${signalPort}/health`)).ok;
  } catch {
    health = false;
  }
  return { stun, signal, health };
}

// ────────────────────────────── TURN floods ──────────────────────────────

export interface FloodResult {
  /** What was sent, in one line. */
  sent: string;
  /** How the relay answered, counted by the flooder. */
  answers: Record<string, number>;
  seconds: number;
}

/**
 * Allocation flood: `clients` TURN clients, each with its own socket, run the
 * whole 401 → authenticated Allocate exchange, `concurrency` at a time, with
 * one username for all (`sameUser`: the per-user quota) or one each (the
 * total quota). Successful allocations are kept until `release()`.
 */
export async function allocationFlood(o: {
  turnPort: number;
  secret: string;
  clients: number;
  sameUser: boolean;
  concurrency: number;
  sourceIps: string[];
}): Promise<FloodResult & { release(): Promise<void> }> {
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  const made: TurnTestClient[] = [];
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const shared = `${expiry}:flood-${randomBytes(3).toString('hex')}`;
  let next = 0;
  const worker = async () => {
    while (next < o.clients) {
      const i = next++;
      const username = o.sameUser ? shared : `${expiry}:flood-${i}-${randomBytes(3).toString('hex')}`;
      const c = new TurnTestClient({ host: '127.0.0.1', port: o.turnPort }, username, turnPassword(o.secret, username));
      await new Promise<void>((r) => c.socket.bind(0, o.sourceIps[i % o.sourceIps.length]!, () => r()));
      try {
        await c.allocate();
        tally(answers, 'allocated');
        made.push(c);
      } catch (e) {
        const m = /allocate failed: (\w+)/.exec((e as Error).message);
        tally(answers, m ? (m[1] === 'timeout' ? 'no answer' : m[1]!) : 'error');
        c.close();
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return {
    sent: `${o.clients} clients × (Allocate → 401 → authenticated Allocate), ${o.sameUser ? 'one username' : 'a username each'}, from ${o.sourceIps.length} source IPs, ${o.concurrency} at a time`,
    answers,
    seconds: (performance.now() - t0) / 1000,
    async release() {
      await Promise.all(made.map((c) => c.refresh(0).catch(() => undefined)));
      for (const c of made) c.close();
    },
  };
}

/**
 * Peer flood from one authenticated client: CreatePermission requests of
 * `perRequest` new public peer IPs each. Allocations are bounded, and so are
 * the peers of each (508 past the bound): the relay's memory must not follow
 * the number of requests.
 */
export async function permissionFlood(o: { turnPort: number; secret: string; requests: number; perRequest: number; sourceIp: string }): Promise<FloodResult & { release(): Promise<void> }> {
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  const username = `${Math.floor(Date.now() / 1000) + 3600}:peers-${randomBytes(3).toString('hex')}`;
  const c = new TurnTestClient({ host: '127.0.0.1', port: o.turnPort }, username, turnPassword(o.secret, username));
  await new Promise<void>((r) => c.socket.bind(0, o.sourceIp, () => r()));
  await c.allocate();
  let next = 0x0b000000; // 11.0.0.0: public, allowed by the peer policy
  // IPv4 XOR addresses do not depend on the transaction id.
  const tid = new Uint8Array(12);
  for (let i = 0; i < o.requests; i++) {
    const attrs: Array<[number, Uint8Array]> = [];
    for (let k = 0; k < o.perRequest; k++, next++) {
      attrs.push([Attr.XorPeerAddress, encodeXorAddress({ family: 4, address: `${next >>> 24}.${(next >> 16) & 255}.${(next >> 8) & 255}.${next & 255}`, port: 9 }, tid)]);
    }
    const a = await c.authed(Method.CreatePermission, attrs);
    tally(answers, a === undefined ? 'no answer' : a.code !== undefined ? String(a.code) : 'success');
  }
  return {
    sent: `${o.requests} CreatePermission requests of ${o.perRequest} new peer IPs each (${(o.requests * o.perRequest).toLocaleString('en')} peers) on one authenticated allocation`,
    answers,
    seconds: (performance.now() - t0) / 1000,
    async release() {
      await c.refresh(0).catch(() => undefined);
      c.close();
    },
  };
}

function allocateRequest(): Buffer {
  const w = new StunWriter(Method.Allocate, Class.Request, randomBytes(12));
  w.add(Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0]));
  return Buffer.from(w.finish({ fingerprint: fingerprintOf }));
}

/** Count STUN answers on a socket by class and error code. */
function countAnswers(sock: dgram.Socket, answers: Record<string, number>): void {
  sock.on('message', (m) => {
    const d = decodeStun(m);
    if (!d.ok) return tally(answers, 'other bytes');
    const ec = getAttr(d.value, Attr.ErrorCode);
    const code = ec ? decodeErrorCode(attrValue(d.value, ec))?.code : undefined;
    tally(answers, code !== undefined ? String(code) : d.value.cls === Class.Success ? 'success' : 'other');
  });
}

async function udpSockets(ips: string[], perIp: number): Promise<dgram.Socket[]> {
  const out: dgram.Socket[] = [];
  for (const ip of ips) {
    for (let k = 0; k < perIp; k++) {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22 });
      s.on('error', () => undefined);
      await new Promise<void>((r) => s.bind(0, ip, () => r()));
      out.push(s);
    }
  }
  return out;
}

/**
 * Send from every socket in turn, as fast as the event loop allows (or at
 * `pps` in total), for `seconds`; `make(i)` builds each datagram.
 */
async function blast(socks: dgram.Socket[], port: number, seconds: number, make: (i: number) => Buffer, pps?: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() < until) {
    for (let k = 0; k < 32; k++) {
      const s = socks[sent % socks.length]!;
      s.send(make(sent), port, '127.0.0.1');
      sent++;
    }
    if (pps !== undefined) {
      const ahead = sent / pps - (performance.now() - t0) / 1000;
      if (ahead > 0) await sleep(ahead * 1000); // intent: pacing the flood at `pps`
      else await tick();
    } else {
      await tick();
    }
  }
  return sent;
}

/**
 * Unauthenticated flood: Allocate requests without credentials (each would be
 * answered 401 with a nonce) from `ips.length` source IPs × `portsPerIp`
 * ports. The relay answers at most its --unauth-rate per source IP.
 */
export async function unauthenticatedFlood(o: { turnPort: number; ips: string[]; portsPerIp: number; seconds: number; pps?: number }): Promise<FloodResult> {
  const socks = await udpSockets(o.ips, o.portsPerIp);
  const answers: Record<string, number> = {};
  for (const s of socks) countAnswers(s, answers);
  const t0 = performance.now();
  const sent = await blast(socks, o.turnPort, o.seconds, allocateRequest, o.pps);
  await sleep(500); // intent: a grace period for answers still in flight (how many will come is what is measured)
  for (const s of socks) s.close();
  return {
    sent: `${sent.toLocaleString('en')} unauthenticated Allocate requests from ${o.ips.length} IPs × ${o.portsPerIp} ports${o.pps ? ` at ${o.pps}/s` : ' as fast as possible'}`,
    answers,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Failed-integrity flood (issue 22, point 6): each socket gets a valid NONCE
 * (one 401), then sends Allocates signed with it under made-up usernames, as
 * fast as it can: each would cost the relay a key derivation and an HMAC per
 * secret. The relay answers a per-source burst with 401, then drops them
 * before any of that work (counted as rate_limited).
 */
export async function badIntegrityFlood(o: { turnPort: number; ips: string[]; seconds: number; pps?: number }): Promise<FloodResult> {
  const socks = await udpSockets(o.ips, 1);
  const nonces = await Promise.all(
    socks.map(
      (s) =>
        new Promise<{ realm: string; nonce: string } | undefined>((resolve) => {
          const t = setTimeout(() => resolve(undefined), 2000);
          s.once('message', (m) => {
            clearTimeout(t);
            const d = decodeStun(m);
            const realm = d.ok ? getAttr(d.value, Attr.Realm) : undefined;
            const nonce = d.ok ? getAttr(d.value, Attr.Nonce) : undefined;
            resolve(d.ok && realm && nonce ? { realm: Buffer.from(attrValue(d.value, realm)).toString(), nonce: Buffer.from(attrValue(d.value, nonce)).toString() } : undefined);
          });
          s.send(allocateRequest(), o.turnPort, '127.0.0.1');
        }),
    ),
  );
  const answers: Record<string, number> = {};
  for (const s of socks) countAnswers(s, answers);
  const t0 = performance.now();
  const signed = socks.map((_, k) => {
    const n = nonces[k];
    if (!n) return allocateRequest();
    const w = new StunWriter(Method.Allocate, Class.Request, randomBytes(12));
    w.add(Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0]));
    const username = `${Math.floor(Date.now() / 1000) + 3600}:made-up-${k}`;
    w.add(Attr.Username, Buffer.from(username));
    w.add(Attr.Realm, Buffer.from(n.realm));
    w.add(Attr.Nonce, Buffer.from(n.nonce));
    return Buffer.from(w.finish({ integrity: integrityWith(longTermKey(username, n.realm, 'not-the-password')), fingerprint: fingerprintOf }));
  });
  const sent = await blast(socks, o.turnPort, o.seconds, (i) => signed[i % signed.length]!, o.pps);
  await sleep(500);
  for (const s of socks) s.close();
  return {
    sent: `${sent.toLocaleString('en')} Allocates with a valid nonce and MESSAGE-INTEGRITY under made-up usernames from ${o.ips.length} IPs${o.pps ? ` at ${o.pps}/s` : ' as fast as possible'}`,
    answers,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Garbage of every kind the UDP path meets. */
function invalidDatagram(i: number): Buffer {
  switch (i % 6) {
    case 0:
      return randomBytes(1 + (i % 200));
    case 1: {
      // A STUN header whose length runs past the datagram.
      const b = allocateRequest();
      b.writeUInt16BE(0x0400, 2);
      return b;
    }
    case 2: {
      // ChannelData on a channel this source never bound.
      const b = Buffer.alloc(164);
      b.writeUInt16BE(0x4000 + (i % 0x1000), 0);
      b.writeUInt16BE(160, 2);
      return b;
    }
    case 3:
      return Buffer.alloc(9000, i & 0xff); // over --max-message
    case 4: {
      // A well-formed request with a wrong FINGERPRINT.
      const b = allocateRequest();
      b[b.length - 1]! ^= 0xff;
      return b;
    }
    default:
      return Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]); // truncated header
  }
}

export async function invalidUdpFlood(o: { turnPort: number; ips: string[]; seconds: number; pps?: number }): Promise<FloodResult> {
  const socks = await udpSockets(o.ips, 1);
  const answers: Record<string, number> = {};
  for (const s of socks) countAnswers(s, answers);
  const t0 = performance.now();
  const sent = await blast(socks, o.turnPort, o.seconds, invalidDatagram, o.pps);
  await sleep(500); // intent: a grace period for answers still in flight (how many will come is what is measured)
  for (const s of socks) s.close();
  return {
    sent: `${sent.toLocaleString('en')} invalid datagrams (random bytes, overlong STUN length, ChannelData on unbound channels, 9000-byte, bad FINGERPRINT, truncated header) from ${o.ips.length} IPs`,
    answers,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Invalid TCP streams: `garbage` connections that send bytes no STUN or
 * ChannelData framing allows, `overlong` ones declaring a message over the
 * size bound, and `stalled` ones that send half a header and wait. The first
 * two must be closed by the relay at once; stalled ones cost one socket each
 * until the idle timeout (120 s), within the stream limit.
 */
export async function invalidTcpFlood(o: { turnPort: number; garbage: number; overlong: number; stalled: number; ips: string[] }): Promise<FloodResult & { closeStalled(): void }> {
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  const stalled: net.Socket[] = [];
  const one = (i: number, kind: 'garbage' | 'overlong' | 'stalled') =>
    new Promise<void>((resolve) => {
      const s = net.connect({ port: o.turnPort, host: '127.0.0.1', localAddress: o.ips[i % o.ips.length] });
      let done = false;
      const finish = (what: string) => {
        if (done) return;
        done = true;
        tally(answers, `${kind}: ${what}`);
        resolve();
      };
      s.on('error', () => undefined);
      s.on('close', () => finish('closed by the relay'));
      s.on('connect', () => {
        if (kind === 'garbage') s.write(Buffer.concat([Buffer.from([0xc0 | (i & 0x3f)]), randomBytes(63)]));
        else if (kind === 'overlong') s.write(Buffer.from([0x40, 0x00, 0xff, 0xff, 1, 2, 3, 4]));
        else {
          s.write(allocateRequest().subarray(0, 10));
          stalled.push(s);
          setTimeout(() => finish('held open'), 2000); // intent: how a stalled stream fares over 2 s is the measurement
          return;
        }
        // intent: the relay has 2 s to close a bad stream; still open after that is the finding
        setTimeout(() => {
          finish('still open after 2 s');
          s.destroy();
        }, 2000);
      });
    });
  const jobs: Array<Promise<void>> = [];
  for (let i = 0; i < o.garbage; i++) jobs.push(one(i, 'garbage'));
  for (let i = 0; i < o.overlong; i++) jobs.push(one(i, 'overlong'));
  for (let i = 0; i < o.stalled; i++) jobs.push(one(i, 'stalled'));
  await Promise.all(jobs);
  return {
    sent: `${o.garbage} TCP connections sending garbage, ${o.overlong} declaring a 65 535-byte message, ${o.stalled} sending half a STUN header and stalling`,
    answers,
    seconds: (performance.now() - t0) / 1000,
    closeStalled() {
      for (const s of stalled) s.destroy();
    },
  };
}

/**
 * Slow connections (issue 22, points 2 and 3): `count` TCP connections to
 * `port` from `ips`, each sending its first bytes and then one more byte
 * every `trickleMs` (never a complete message), until the relay closes it or
 * `seconds` pass. `kind`: 'stun' starts a STUN request (2 bytes, then the
 * rest a byte at a time), 'http' a request line and headers that never end,
 * 'idle' nothing at all (a TLS port waiting for a ClientHello). Answers are
 * counted by when the relay closed the connection: at once (< 500 ms,
 * refused over a limit), by a deadline, or not within `seconds`.
 */
export async function slowConnectionFlood(o: {
  port: number;
  kind: 'stun' | 'http' | 'idle';
  count: number;
  ips: string[];
  trickleMs: number;
  seconds: number;
}): Promise<FloodResult & { closedAfterMs: number[]; closeAll(): void }> {
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  const sockets: net.Socket[] = [];
  const closedAfterMs: number[] = [];
  const first = o.kind === 'stun' ? allocateRequest().subarray(0, 2) : o.kind === 'http' ? Buffer.from('GET /signal HTTP/1.1\r\nHost: relay\r\n') : Buffer.alloc(0);
  const rest = o.kind === 'stun' ? allocateRequest().subarray(2) : Buffer.from('X-Slow: ' + 'a'.repeat(4000));
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const s = net.connect({ port: o.port, host: '127.0.0.1', localAddress: o.ips[i % o.ips.length] });
      sockets.push(s);
      let opened = 0;
      let at = 0;
      let timer: NodeJS.Timeout | undefined;
      const end = setTimeout(() => {
        tally(answers, `still open after ${o.seconds} s`);
        clearInterval(timer);
        resolve();
      }, o.seconds * 1000);
      s.on('error', () => undefined);
      s.on('connect', () => {
        opened = performance.now();
        if (first.length) s.write(first);
        timer = setInterval(() => {
          if (at < rest.length && !s.destroyed) s.write(rest.subarray(at, ++at));
        }, o.trickleMs);
      });
      s.on('close', () => {
        clearInterval(timer);
        if (performance.now() - t0 >= o.seconds * 1000) return;
        clearTimeout(end);
        const after = opened ? performance.now() - opened : 0;
        closedAfterMs.push(after);
        tally(answers, after < 500 ? 'closed at once (refused)' : `closed by the relay after ${Math.ceil(after / 1000)} s`);
        resolve();
      });
    });
  const jobs: Array<Promise<void>> = [];
  for (let i = 0; i < o.count; i++) {
    jobs.push(one(i));
    if (i % 50 === 49) await tick();
  }
  await Promise.all(jobs);
  return {
    sent: `${o.count} ${o.kind} connections from ${o.ips.length} source IPs, one byte every ${o.trickleMs / 1000} s, never a whole message`,
    answers,
    seconds: (performance.now() - t0) / 1000,
    closedAfterMs,
    closeAll() {
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * EVEN-PORT cycles (issue 22, point 4): `clients` TURN clients each run
 * `cycles` times Allocate with EVEN-PORT R=1 (an even port, the next one
 * reserved), then delete it (Refresh 0). Answers are counted; the caller
 * reads the relay's open files around it.
 */
export async function evenPortCycles(o: { turnPort: number; secret: string; clients: number; cycles: number; sourceIps: string[] }): Promise<FloodResult> {
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: o.clients }, async (_, k) => {
      const c = TurnTestClient.withSecret({ host: '127.0.0.1', port: o.turnPort }, o.secret);
      await new Promise<void>((r) => c.socket.bind(0, o.sourceIps[k % o.sourceIps.length], () => r()));
      for (let i = 0; i < o.cycles; i++) {
        const a = await c.authed(Method.Allocate, [[Attr.RequestedTransport, new Uint8Array([17, 0, 0, 0])], [Attr.EvenPort, new Uint8Array([0x80])]]);
        tally(answers, a?.cls === Class.Success ? 'allocated (port reserved)' : a?.code ? String(a.code) : 'no answer');
        if (a?.cls === Class.Success) await c.refresh(0);
      }
      c.close();
    }),
  );
  return {
    sent: `${o.clients} clients × ${o.cycles} cycles of Allocate (EVEN-PORT R=1) then delete`,
    answers,
    seconds: (performance.now() - t0) / 1000,
  };
}

// ──────────────────────────── signalling floods ────────────────────────────

interface WsOutcome {
  first?: Record<string, unknown>;
  closeCode?: number;
}

/** Open a WebSocket and wait for its first frame (or its close). */
function openWs(url: string, localAddress: string, timeoutMs = 10_000): Promise<{ ws: WebSocket; out: WsOutcome }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress, handshakeTimeout: timeoutMs });
    const out: WsOutcome = {};
    const t = setTimeout(() => resolve({ ws, out }), timeoutMs);
    ws.on('error', () => undefined);
    ws.once('message', (d) => {
      try {
        out.first = JSON.parse(String(d)) as Record<string, unknown>;
      } catch {
        out.first = { t: 'unparsable' };
      }
      clearTimeout(t);
      resolve({ ws, out });
    });
    ws.on('close', (code) => {
      out.closeCode = code;
      clearTimeout(t);
      resolve({ ws, out });
    });
  });
}

/**
 * WebSocket connection flood: `count` connections opened `concurrency` at a
 * time from `ips`, each left open unauthenticated. Beyond the per-IP and the
 * total limit the relay answers ERR_BUSY and closes 1013.
 */
export async function wsConnectionFlood(o: { signalUrl: string; count: number; ips: string[]; concurrency: number }): Promise<FloodResult & { closeAll(): void }> {
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  const open: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < o.count) {
      const i = next++;
      const { ws, out } = await openWs(o.signalUrl, o.ips[i % o.ips.length]!);
      const t = out.first?.t === 'error' ? `ERR: ${String(out.first.code)}` : out.first?.t ? `${String(out.first.t)}` : out.closeCode ? `closed ${out.closeCode}` : 'no answer';
      tally(answers, t);
      if (out.first?.t === 'challenge') open.push(ws);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  // Busy connections are closed by the relay; count the close codes they got.
  await sleep(300); // intent: a grace period for the relay's closes of busy connections still in flight
  return {
    sent: `${o.count} WebSocket connections from ${o.ips.length} source IPs, ${o.concurrency} opening at a time, left open unauthenticated`,
    answers,
    seconds: (performance.now() - t0) / 1000,
    closeAll() {
      for (const ws of open) ws.terminate();
    },
  };
}

/**
 * Ping flood (issue 22, point 7): one unauthenticated connection sends
 * `pings` WebSocket pings as fast as it can. Pongs come only within the
 * message rate (burst 100, 50/s), then the connection is closed 1008.
 */
export async function wsPingFlood(o: { signalUrl: string; pings: number; localAddress: string }): Promise<FloodResult> {
  const t0 = performance.now();
  const { ws } = await openWs(o.signalUrl, o.localAddress);
  const answers: Record<string, number> = {};
  ws.on('pong', () => tally(answers, 'pong'));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  let sent = 0;
  for (let i = 0; i < o.pings && ws.readyState === ws.OPEN; i++) {
    ws.ping();
    sent++;
    if (i % 500 === 0) await tick();
  }
  const code = await Promise.race([closed, sleep(3000).then(() => 0)]);
  tally(answers, code ? `connection closed ${code}` : 'still open');
  ws.terminate();
  return { sent: `${sent.toLocaleString('en')} pings on one connection, as fast as possible`, answers, seconds: (performance.now() - t0) / 1000 };
}

/** Authenticate a WebSocket with a real mailbox proof. */
export async function authenticated(signalUrl: string, id: Identity, localAddress: string): Promise<WebSocket> {
  return (await authenticatedMailbox(signalUrl, id, localAddress)).ws;
}

/** The same, with the mailbox id the relay gave it (its "ready" frame). */
export async function authenticatedMailbox(signalUrl: string, id: Identity, localAddress: string): Promise<{ ws: WebSocket; mailbox: string }> {
  const { ws, out } = await openWs(signalUrl, localAddress);
  if (out.first?.t !== 'challenge') throw new Error(`no challenge: ${JSON.stringify(out)}`);
  const proof = proveMailbox(id, Buffer.from(out.first.challenge as string, 'base64'), canonicalForm(signalUrl));
  const ready = new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(JSON.parse(String(d)) as Record<string, unknown>)));
  ws.send(JSON.stringify(authFrame(proof)));
  const r = await ready;
  if (r.t !== 'ready') throw new Error(`auth failed: ${JSON.stringify(r)}`);
  return { ws, mailbox: String(r.mailbox) };
}

/**
 * Message flood: one authenticated connection sends `messages` envelopes to an
 * offline mailbox as fast as it can. The relay allows 50/s (burst 100) per
 * connection, answers ERR_RATE_LIMIT beyond, and closes 1008 after 50 strikes.
 */
export async function wsMessageFlood(o: { signalUrl: string; id: Identity; messages: number; localAddress: string }): Promise<FloodResult> {
  const t0 = performance.now();
  const ws = await authenticated(o.signalUrl, o.id, o.localAddress);
  const answers: Record<string, number> = {};
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.on('message', (d) => {
    const f = JSON.parse(String(d)) as { t: string; code?: string };
    tally(answers, f.t === 'error' ? String(f.code) : f.t);
  });
  let sent = 0;
  for (let i = 0; i < o.messages && ws.readyState === ws.OPEN; i++) {
    ws.send(`{"t":"send","to":"00000000000000000000000000000000","id":${i},"data":"AAECAwQFBgc="}`);
    sent++;
    if (i % 200 === 0) await tick();
  }
  const code = await Promise.race([closed, sleep(3000).then(() => 0)]);
  if (code) tally(answers, `connection closed ${code}`);
  ws.terminate();
  return {
    sent: `${sent.toLocaleString('en')} send messages on one authenticated connection, as fast as possible (stopped when the relay closed it)`,
    answers,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Bad-proof flood: `connections` connections from `ips`, each answering its
 * challenge with a real identity bundle and a well-formed signature over
 * another challenge, so every proof costs the verifier a full ML-DSA-87 +
 * Ed25519 check before it fails.
 * Beyond 4 in flight per source IP or the verify queue, the relay answers ERR_BUSY.
 */
export async function badProofFlood(o: { signalUrl: string; id: Identity; connections: number; ips: string[] }): Promise<FloodResult> {
  const t0 = performance.now();
  const answers: Record<string, number> = {};
  // Signed once: a valid signature, but over an all-zero challenge and another relay's URL.
  const frame = JSON.stringify(authFrame(proveMailbox(o.id, new Uint8Array(32), 'wss://not-this-relay.example:443/signal')));
  const one = async (i: number) => {
    const { ws, out } = await openWs(o.signalUrl, o.ips[i % o.ips.length]!);
    if (out.first?.t !== 'challenge') {
      tally(answers, `not challenged: ${String(out.first?.code ?? out.closeCode)}`);
      ws.terminate();
      return;
    }
    const answer = new Promise<string>((r) => {
      ws.once('message', (d) => {
        const f = JSON.parse(String(d)) as { t: string; code?: string };
        r(f.t === 'error' ? String(f.code) : f.t);
      });
      ws.once('close', (code) => r(`closed ${code}`));
      setTimeout(() => r('no answer in 15 s'), 15_000);
    });
    ws.send(frame);
    tally(answers, await answer);
    ws.terminate();
  };
  await Promise.all(Array.from({ length: o.connections }, (_, i) => one(i)));
  return {
    sent: `${o.connections} connections from ${o.ips.length} IPs, each answering its challenge with a well-formed Ed25519 mailbox proof over another challenge and relay`,
    answers,
    seconds: (performance.now() - t0) / 1000,
  };
}

// ─────────────────────────────── reporting ───────────────────────────────

export const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
export const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function callLine(w: CallWindow, base: CallWindow): string {
  return (
    `loss ${pct(w.loss)} (${w.sent - w.received}/${w.sent}; baseline ${pct(base.loss)}), ` +
    `latency p50 ${ms(w.p50Ms)} / p99 ${ms(w.p99Ms)} / max ${ms(w.maxMs)} ms (baseline ${ms(base.p50Ms)} / ${ms(base.p99Ms)}), ` +
    `signalling ping p50 ${ms(w.pingP50Ms)} / p99 ${ms(w.pingP99Ms)} ms, ${w.pongs}/${w.pings} answered (baseline ${ms(base.pingP50Ms)} / ${ms(base.pingP99Ms)})`
  );
}

function answersLine(a: Record<string, number>): string {
  return Object.entries(a)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${v.toLocaleString('en')} × ${k}`)
    .join(', ');
}

export interface FloodReport {
  name: string;
  result: FloodResult;
  counters: Record<string, number>;
  during: CallWindow;
  peakRss: number;
  rssAfter: number;
  /** The relay's V8 heap after the flood (after a full GC when it runs with --expose-gc), from /metrics. */
  heapAfter: number | undefined;
  answering: { stun: boolean; signal: boolean; health: boolean };
  /** The relay's CPU during the flood, seconds; and its open files before and after. */
  cpuSeconds: number;
  files: { before: number; after: number };
}

/** Run one flood with the measurements around it: the call's window, the relay's counters, peak RSS, answering after. */
export async function measured(
  relay: RelayProcess,
  call: LiveCall,
  name: string,
  flood: () => Promise<FloodResult & { cleanup?: () => Promise<void> | void }>,
): Promise<FloodReport> {
  await call.mark(); // drop the gap between floods
  resetPeakMemory(relay.pid);
  const before = await relayMetrics(relay.signalPort);
  const filesBefore = openFiles(relay.pid);
  const cpu0 = processCpuSeconds(relay.pid);
  const result = await flood();
  const cpuSeconds = processCpuSeconds(relay.pid) - cpu0;
  const filesAfter = openFiles(relay.pid);
  const during = await call.mark();
  const peakRss = processMemory(relay.pid).hwm;
  const counters = metricsDelta(before, await relayMetrics(relay.signalPort));
  await result.cleanup?.();
  const answering = await stillAnswering(relay.turnPort, relay.signalPort);
  const m = await relayMetrics(relay.signalPort);
  const heapAfter = m.heap_used_bytes ?? m.heapUsedBytes;
  return { name, result, counters, during, peakRss, rssAfter: processMemory(relay.pid).rss, heapAfter, answering, cpuSeconds, files: { before: filesBefore, after: filesAfter } };
}

export function printReport(r: FloodReport, base: CallWindow): void {
  const ok = (b: boolean) => (b ? 'yes' : 'NO');
  console.log(`\n── ${r.name} (${r.result.seconds.toFixed(1)} s)`);
  console.log(`  sent:      ${r.result.sent}`);
  console.log(`  answered:  ${answersLine(r.result.answers) || 'nothing'}`);
  console.log(`  counters:  ${answersLine(r.counters) || 'none moved'}`);
  console.log(`  live call: ${callLine(r.during, base)}`);
  console.log(`  memory:    relay peak RSS ${mb(r.peakRss)} during, ${mb(r.rssAfter)} after${r.heapAfter !== undefined ? `; V8 heap after ${mb(r.heapAfter)}` : ''}`);
  console.log(`  relay CPU: ${r.cpuSeconds.toFixed(2)} s in ${r.result.seconds.toFixed(1)} s (${((r.cpuSeconds / Math.max(r.result.seconds, 0.001)) * 100).toFixed(0)} % of a core); open files ${r.files.before} → ${r.files.after}`);
  console.log(`  after:     STUN ${ok(r.answering.stun)}, WebSocket ${ok(r.answering.signal)}, /healthz ${ok(r.answering.health)}`);
}

