/**
 * The TURN-thread side of turn-threads.ts: taking over an authenticated UDP
 * Allocate from the main thread. The thread binds a socket to the shared
 * listen port, connected to the client (the kernel then delivers that
 * client's datagrams to it, not to the main thread's listener), binds a
 * relay socket, and makes the allocation in its own core. The answer goes
 * out through the connected socket. The connected socket lives as long as
 * the allocation: released() closes it.
 */
import type dgram from 'node:dgram';
import type { RelayRequest, TurnAction } from '../turn/actions';
import { tupleKey, type ClientTuple } from '../turn/allocation';
import type { TurnCore } from '../turn/core';
import { bindConnected } from './listeners';
import type { RelayIO, RelaySockets } from './relay-sockets';
import type { AdoptResult } from './turn-thread-messages';
import type { UdpSharing } from './udp-sharing';

/** Listener indexes of adopted sockets start here, clear of the main listeners'. */
export const FIRST_ADOPTED_LISTENER = 1000;

/** What adoption needs of its shell (turn-shell.ts). */
export interface AdoptionHost {
  readonly core: TurnCore<RelayIO>;
  readonly relays: RelaySockets;
  /** A new listener index. */
  nextListener(): number;
  /** Receive and send on `sock` as UDP listener `listener` (a connected socket sends to its client only). */
  addUdp(listener: number, sock: dgram.Socket, connected: boolean): void;
  dropUdp(listener: number): void;
  run(actions: TurnAction<RelayIO>[]): void;
  guard(fn: () => void): void;
  countDropped(): void;
}

export class ThreadAdoption {
  /** Connected client sockets of adopted allocations: allocation id → listener index. */
  private readonly sockets = new Map<number, number>();
  /**
   * Every connected socket's 'error' listener. A closure made in adopt() would
   * keep adopt()'s whole scope (the handed request with its message and key)
   * alive as long as the socket: ~1 KB per allocation (issue 16).
   */
  private readonly countDropped = (): void => this.host.countDropped();

  constructor(
    private readonly host: AdoptionHost,
    private readonly listen: string,
    private readonly port: number,
    private readonly share: UdpSharing,
  ) {}

  async adopt(handed: RelayRequest): Promise<AdoptResult> {
    const host = this.host;
    const listener = host.nextListener();
    // Fresh literals, not the strings structured-cloned from the main thread: those are one copy per allocation.
    const tuple: ClientTuple = { ...handed.tuple, transport: 'udp', listener };
    const req: RelayRequest = { ...handed, tuple, tupleKey: tupleKey(tuple) };
    const sock = await bindConnected(this.listen, this.port, tuple, this.share, this.countDropped);
    if (!sock) return 'failed';
    host.addUdp(listener, sock, true);
    host.core.pending.set(req.tupleKey, req);
    const r = await host.relays.bind(req);
    let made = false;
    host.guard(() => {
      host.run(host.core.relayBound(req, r, Date.now()));
      const a = r.ok ? host.core.table.find(tuple) : undefined;
      if (r.ok && a && a.io === r.io) {
        r.io.allocation = a;
        this.sockets.set(a.id, listener);
        made = true;
      }
    });
    if (!made) host.dropUdp(listener);
    return made ? 'made' : 'refused';
  }

  /** The allocation was released: close its connected socket. */
  released(allocationId: number): void {
    const l = this.sockets.get(allocationId);
    if (l === undefined) return;
    this.sockets.delete(allocationId);
    this.host.dropUdp(l);
  }
}
