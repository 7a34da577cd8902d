/**
 * Runs coturn's load client, turnutils_uclient (Debian package coturn), and
 * reads its summary: messages sent and received, lost packets, and any TURN
 * error it reported. This is the outside truth the relay is tested against.
 */
import { spawn } from 'node:child_process';

export interface UclientResult {
  code: number | null;
  sent: number;
  received: number;
  lost: number;
  errors: string[];
  output: string;
}

/** The counts in uclient's closing summary (-1 for a line it did not print). */
export function uclientCounts(out: string): { sent: number; received: number; lost: number } {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : -1;
  };
  return {
    sent: num(/start_mclient: tot_send_msgs=(\d+)/),
    received: num(/start_mclient: tot_send_msgs=\d+, tot_recv_msgs=(\d+)/),
    lost: num(/Total lost packets (\d+)/),
  };
}

/** `netns`: run it inside that network namespace (`ip netns exec`). */
export function runUclient(args: string[], timeoutMs = 60_000, netns?: string): Promise<UclientResult> {
  return new Promise((resolve, reject) => {
    const child = netns
      ? spawn('ip', ['netns', 'exec', netns, 'turnutils_uclient', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('turnutils_uclient', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run turnutils_uclient (apt-get install coturn): ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        ...uclientCounts(out),
        errors: out
          .split('\n')
          // uclient's TLS client first tries older protocol versions, which the relay refuses.
          .filter((l) => /error \d{3}|ERROR|Cannot|cannot/i.test(l) && !/Total lost|tls_connect|SSL routines/.test(l)),
        output: out,
      });
    });
  });
}
