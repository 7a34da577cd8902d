/**
 * Relay sockets: the UDP sockets that give each allocation its relayed
 * transport address (RFC 8656 §5). Ports are drawn at random from the
 * configured range; EVEN-PORT gets an even port, and with R set the next
 * (odd) port is reserved under a RESERVATION-TOKEN for 30 s (§14.9, §14.10),
 * or until the allocation that reserved it is released, whichever is first
 * (the core counts it against the quotas meanwhile: turn/reservations.ts).
 * A send that fails (unroutable peer, full buffer) is counted and ignored:
 * it never tears the allocation down (lab-notes: coturn closes on ENETUNREACH).
 *
 * Memory (issue 16): a relay holds one socket per allocation, so nothing is
 * kept per socket that can be shared: one 'error' listener and one receive
 * function for every socket (the socket's RelayIO is the receiver's owner),
 * no closure that keeps the bind's scope alive, and RelayIO a class whose
 * fields are all set in its constructor (added later, they went to a
 * separate property store of ~160 bytes).
 */
import type dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { Allocation } from '../turn/allocation';
import type { RelayRequest } from '../turn/actions';
import type { TransportAddress } from '../stun/xor-address';
import { hex } from '../turn/bytes';
import { RESERVATION_MS } from '../turn/reservations';
import { createLiteralSocket, FastUdp } from './fast-udp';

/** What the shell keeps per allocation: its relay socket and how to reach the client. */
export class RelayIO {
  /** Hot-path sender/receiver on `socket` (fast-udp.ts). */
  readonly out: FastUdp<RelayIO>;
  allocation: Allocation<RelayIO> | undefined = undefined;
  /** Token (hex) of the port this socket's Allocate reserved, while unused. */
  reserved: string | undefined = undefined;

  /** `socket` must be bound. */
  constructor(
    readonly socket: dgram.Socket,
    readonly port: number,
  ) {
    this.out = new FastUdp<RelayIO>(socket);
  }
}

export type PeerHandler = (io: RelayIO, msg: Buffer, rinfo: dgram.RemoteInfo) => void;


/**
 * Relay sockets that could not be opened, by error code (EMFILE: out of file
 * descriptors; EADDRNOTAVAIL: the relay address is not on this host), for the
 * operator (ops-watch.ts logs and counts them): an Allocate answered 508 for
 * want of a socket must not be silent. Process-wide, this thread's only.
 */
export const relaySocketFailures = new Map<string, number>();
let onSocketFailure: ((code: string) => void) | undefined;
export function watchRelaySocketFailures(f: ((code: string) => void) | undefined): void {
  onSocketFailure = f;
}

export class RelaySockets {
  private readonly reservations = new Map<string, { io: RelayIO; timer: NodeJS.Timeout }>();
  sendErrors = 0;
  /** Every relay socket's 'error' listener: failed sends surface there (no callback given): count, keep the allocation. */
  private readonly countSendError = (): void => {
    this.sendErrors++;
  };
  /** Every relay socket's receiver; the socket's RelayIO comes as `owner`. */
  private readonly received = (msg: Buffer, rinfo: dgram.RemoteInfo, io: RelayIO): void => this.onPeer(io, msg, rinfo);

  constructor(
    private readonly bindIp: { 4: string | null; 6: string | null },
    private readonly announceIp: { 4: string | null; 6: string | null },
    private readonly minPort: number,
    private readonly maxPort: number,
    private readonly onPeer: PeerHandler,
    /** One byte per port, 1 while a relay socket here holds it (turn-shell.ts drops requests from them). */
    private readonly ownPorts: Uint8Array = new Uint8Array(65536),
  ) {}

  async bind(req: RelayRequest): Promise<{ ok: true; relayed: TransportAddress; io: RelayIO; reservationToken?: Uint8Array } | { ok: false }> {
    const fam = req.family;
    const ip = this.bindIp[fam];
    const announce = this.announceIp[fam];
    if (!ip || !announce) return { ok: false };
    if (req.reservationToken) {
      const k = hex(req.reservationToken);
      const r = this.reservations.get(k);
      if (!r) return { ok: false };
      this.reservations.delete(k);
      clearTimeout(r.timer);
      return { ok: true, relayed: { family: fam, address: announce, port: r.io.port }, io: r.io };
    }
    for (let attempt = 0; attempt < 32; attempt++) {
      let port = this.minPort + Math.floor(Math.random() * (this.maxPort - this.minPort + 1));
      if (req.evenPort) {
        port &= ~1;
        if (port < this.minPort) port += 2;
        if (port + 1 > this.maxPort) continue;
      }
      const io = await this.open(fam, ip, port);
      if (typeof io === 'string') {
        // EADDRINUSE is the port draw's business (try another); anything else is the operator's.
        // (The code comes with this open's own answer: binds run concurrently, a field shared
        // by them lost it when another bind started meanwhile and counted 'error' instead.)
        if (io === 'EADDRINUSE') continue;
        const code = io;
        relaySocketFailures.set(code, (relaySocketFailures.get(code) ?? 0) + 1);
        onSocketFailure?.(code);
        return { ok: false };
      }
      if (req.evenPort?.reserveNext) {
        const next = await this.open(fam, ip, port + 1);
        if (typeof next === 'string') {
          this.close(io);
          continue;
        }
        const token = randomBytes(8);
        const timer = setTimeout(() => {
          this.reservations.delete(hex(token));
          this.close(next);
        }, RESERVATION_MS);
        timer.unref();
        this.reservations.set(hex(token), { io: next, timer });
        io.reserved = hex(token);
        return { ok: true, relayed: { family: fam, address: announce, port }, io, reservationToken: token };
      }
      return { ok: true, relayed: { family: fam, address: announce, port }, io };
    }
    return { ok: false };
  }

  /** The bound socket's RelayIO, or the bind's error code. */
  private open(fam: 4 | 6, ip: string, port: number): Promise<RelayIO | string> {
    return new Promise((resolve) => {
      const socket = createLiteralSocket({ type: fam === 4 ? 'udp4' : 'udp6', ipv6Only: fam === 6 });
      const onError = (e: NodeJS.ErrnoException) => {
        try {
          socket.close();
        } catch {
          // never opened
        }
        resolve(e.code ?? 'error');
      };
      socket.once('error', onError);
      socket.bind({ port, address: ip, exclusive: true }, () => {
        socket.off('error', onError);
        socket.on('error', this.countSendError);
        this.ownPorts[port] = 1;
        const io = new RelayIO(socket, port);
        io.out.onMessage(this.received, io);
        io.out.tapReads('relay', port);
        resolve(io);
      });
    });
  }

  close(io: RelayIO): void {
    io.allocation = undefined;
    this.ownPorts[io.port] = 0;
    // The port this allocation reserved and nobody used: freed now, not 30 s later.
    const r = io.reserved !== undefined ? this.reservations.get(io.reserved) : undefined;
    if (r && io.reserved !== undefined) {
      this.reservations.delete(io.reserved);
      clearTimeout(r.timer);
      this.close(r.io);
    }
    io.reserved = undefined;
    try {
      io.socket.close();
    } catch {
      // already closed
    }
  }

  closeAll(): void {
    for (const r of this.reservations.values()) {
      clearTimeout(r.timer);
      this.close(r.io);
    }
    this.reservations.clear();
  }
}
