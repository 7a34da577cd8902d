/**
 * Packet capture on the loopback interface with tcpdump (Debian package
 * `tcpdump`, needs root), parsed here: what actually crossed the wire to
 * and from the relay, for tests that assert what the relay could see.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Packet {
  proto: 'udp' | 'tcp';
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export interface Capture {
  stop(): Promise<Packet[]>;
}

export function canCapture(): boolean {
  return process.getuid?.() === 0;
}

/** Start capturing on `lo` with a BPF filter such as "udp port 3478 or tcp port 8080". */
export async function startCapture(filter: string): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), 'hush-pcap-'));
  const file = join(dir, 'lo.pcap');
  const proc: ChildProcess = spawn('tcpdump', ['-i', 'lo', '-U', '-s', '0', '-n', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // tcpdump says "listening on lo" on stderr once the capture is live.
  await new Promise<void>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`tcpdump did not start: ${err}`)), 10_000);
    proc.stderr!.on('data', () => {
      if (err.includes('listening on')) {
        clearTimeout(t);
        ok();
      }
    });
    proc.once('exit', (c) => {
      clearTimeout(t);
      fail(new Error(`tcpdump exited (${c}): ${err} (apt-get install -y tcpdump; needs root)`));
    });
  });
  return {
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGINT');
      await exited;
      try {
        return parsePcap(readFileSync(file));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Classic pcap, link type Ethernet (what Linux's lo gives), IPv4 and IPv6, UDP and TCP. */
export function parsePcap(buf: Uint8Array): Packet[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && dv.getUint32(0, false) !== 0xa1b2c3d4 && dv.getUint32(0, false) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const linkType = dv.getUint32(20, le);
  if (linkType !== 1) throw new Error(`unsupported link type ${linkType}`);
  const out: Packet[] = [];
  let o = 24;
  while (o + 16 <= buf.length) {
    const incl = dv.getUint32(o + 8, le);
    const pkt = buf.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    if (pkt.length < 14) continue;
    const etherType = (pkt[12]! << 8) | pkt[13]!;
    let l4: Uint8Array;
    let proto: number;
    if (etherType === 0x0800) {
      const ihl = (pkt[14]! & 0x0f) * 4;
      proto = pkt[14 + 9]!;
      const total = (pkt[16]! << 8) | pkt[17]!;
      l4 = pkt.subarray(14 + ihl, 14 + total);
    } else if (etherType === 0x86dd) {
      proto = pkt[14 + 6]!;
      const plen = (pkt[18]! << 8) | pkt[19]!;
      l4 = pkt.subarray(14 + 40, 14 + 40 + plen);
    } else continue;
    if (l4.length < 8) continue;
    const srcPort = (l4[0]! << 8) | l4[1]!;
    const dstPort = (l4[2]! << 8) | l4[3]!;
    if (proto === 17) out.push({ proto: 'udp', srcPort, dstPort, payload: l4.subarray(8) });
    else if (proto === 6) out.push({ proto: 'tcp', srcPort, dstPort, payload: l4.subarray((l4[12]! >> 4) * 4) });
  }
  return out;
}

/** Does `needle` occur anywhere in `hay`? */
export function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0 || needle.length > hay.length) return false;
  const first = needle[0]!;
  outer: for (let i = hay.indexOf(first); i !== -1 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The WebSocket messages carried by captured TCP segments on `port`, both
 * directions, unmasked (RFC 6455 §5): what the signalling server received and
 * sent. Loopback capture has no loss or reordering, so each direction of a
 * connection is its segments' payloads in capture order.
 */
export function websocketMessages(packets: Packet[], port: number): { toServer: string[]; toClient: string[] } {
  const streams = new Map<string, Uint8Array[]>();
  for (const p of packets) {
    if (p.proto !== 'tcp' || p.payload.length === 0) continue;
    let key: string;
    if (p.dstPort === port) key = `c${p.srcPort}`;
    else if (p.srcPort === port) key = `s${p.dstPort}`;
    else continue;
    let list = streams.get(key);
    if (!list) streams.set(key, (list = []));
    list.push(p.payload);
  }
  const out = { toServer: [] as string[], toClient: [] as string[] };
  for (const [key, parts] of streams) {
    const total = parts.reduce((n, p) => n + p.length, 0);
    const buf = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    (key.startsWith('c') ? out.toServer : out.toClient).push(...parseWebSocketStream(buf));
  }
  return out;
}

function parseWebSocketStream(buf: Uint8Array): string[] {
  // A connection opened before the capture starts mid-stream, between two frames (idle socket).
  const text = Buffer.from(buf.subarray(0, 5)).toString('latin1');
  let o = 0;
  if (text.startsWith('GET ') || text.startsWith('HTTP/')) {
    const head = Buffer.from(buf).indexOf('\r\n\r\n');
    if (head < 0) return [];
    o = head + 4;
  }
  const messages: string[] = [];
  let partial: number[] = [];
  while (o + 2 <= buf.length) {
    const b0 = buf[o]!;
    const b1 = buf[o + 1]!;
    let len = b1 & 0x7f;
    let p = o + 2;
    if (len === 126) {
      len = (buf[p]! << 8) | buf[p + 1]!;
      p += 2;
    } else if (len === 127) {
      len = Number(new DataView(buf.buffer, buf.byteOffset + p, 8).getBigUint64(0));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const mask = masked ? buf.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (p + len > buf.length) break;
    const payload = buf.slice(p, p + len);
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
    const opcode = b0 & 0x0f;
    if (opcode === 1 || opcode === 0) {
      partial.push(...payload);
      if (b0 & 0x80) {
        messages.push(Buffer.from(partial).toString('utf8'));
        partial = [];
      }
    }
    o = p + len;
  }
  return messages;
}
