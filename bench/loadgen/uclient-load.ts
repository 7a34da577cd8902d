/**
 * coturn's turnutils_uclient as the bench's load client (HUSH_BENCH_LOAD=uclient,
 * and the cross-check row of `bench -- relay`): `clients` clients in
 * client-to-client mode over channels (-y -c), split over several uclient
 * processes (its connect phase costs ~0.1-0.2 s per client), their summaries
 * added up. One sendmsg/recvmsg per message and its own bookkeeping: on this
 * 2-core machine it costs more CPU per datagram than the relays it loads,
 * which is why hush-loadgen.c exists.
 */
import { spawn } from 'node:child_process';
import { uclientCounts, type UclientResult } from '../../tests/harness/uclient';

/** Clients per uclient process. */
const CLIENTS_PER_PROCESS = 50;

export interface UclientLoad {
  /** Every process printed its connect time: every client is about to send. */
  connected: Promise<void>;
  done: Promise<UclientResult>;
}

export interface UclientLoadOptions {
  ports: number[];
  secret: string;
  clients: number;
  msgs: number;
  pps: number;
  payload: number;
}

export function uclientLoad(o: UclientLoadOptions): UclientLoad {
  const runs: UclientLoad[] = [];
  for (let i = 0, left = o.clients; left > 0; i++, left -= CLIENTS_PER_PROCESS) {
    const m = Math.min(CLIENTS_PER_PROCESS, left);
    const port = o.ports[i % o.ports.length]!;
    const args = ['-y', '-c', '-W', o.secret, '-u', `bench${i}`, '-m', String(m), '-n', String(o.msgs), '-z', String(1000 / o.pps), '-l', String(o.payload), '-p', String(port), '127.0.0.1'];
    let onConnected: () => void = () => undefined;
    const connected = new Promise<void>((r) => (onConnected = r));
    const done = new Promise<UclientResult>((resolve) => {
      const child = spawn('turnutils_uclient', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('Total connect time')) onConnected();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        onConnected();
        resolve({
          code,
          ...uclientCounts(out),
          errors: [],
          output: out,
        });
      });
    });
    runs.push({ connected, done });
  }
  return {
    connected: Promise.all(runs.map((r) => r.connected)).then(() => undefined),
    done: Promise.all(runs.map((r) => r.done)).then((rs) => ({
      code: rs.every((r) => r.code === 0) ? 0 : 1,
      sent: rs.reduce((a, r) => a + Math.max(0, r.sent), 0),
      received: rs.reduce((a, r) => a + Math.max(0, r.received), 0),
      lost: rs.reduce((a, r) => a + Math.max(0, r.lost), 0),
      errors: [],
      output: rs.map((r) => r.output).join('\n'),
    })),
  };
}
