/**
 * The relay's side of hush-xdp-helper (relay-server/bpf/hush_xdp_helper.c):
 * spawns it with a pipe on stdin, waits for its "ready" line, then sends one
 * command per line and matches answers to commands in order (the helper
 * answers every command with exactly one reply, `stats` with lines up to
 * "end"). The helper holds the only file descriptor of the BPF link that
 * attaches the XDP program: when this process ends, even by SIGKILL, its
 * stdin closes (and PR_SET_PDEATHSIG kills it), the link's last descriptor
 * closes and the kernel detaches the program and frees its maps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type XdpMode = 'native' | 'skb';

/** What fills entries for KernelOffload: this helper (the XDP maps) or the native forwarder (native/forwarder.ts). */
export interface OffloadHelper {
  readonly alive: boolean;
  readonly exited: Promise<void>;
  /** Why it ended on its own, when it can say better than "exited". */
  readonly lostReason?: string;
  command(line: string, multi?: boolean): Promise<string[]>;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

interface Waiting {
  multi: boolean;
  lines: string[];
  resolve: (lines: string[]) => void;
  reject: (e: Error) => void;
}

export class HelperProcess implements OffloadHelper {
  private readonly queue: Waiting[] = [];
  private dead: Error | undefined;
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly mode: XdpMode,
    readonly ifindex: number,
    lines: AsyncIterableIterator<string>,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.pump(lines);
    child.once('exit', (code, signal) => this.fail(new Error(`offload helper exited (${signal ?? code})`)));
  }

  /** Starts the helper on `ifname`; rejects with the helper's own reason if it cannot load or attach. */
  static async start(helper: string, object: string, ifname: string, mode: 'auto' | XdpMode, maxMessage: number): Promise<HelperProcess> {
    const child = spawn(helper, [object, ifname, mode, String(maxMessage)], { stdio: ['pipe', 'pipe', 'pipe'] });
    // A helper that died leaves a closed pipe: writes then fail (EPIPE), which must not end the relay.
    child.stdin!.on('error', () => undefined);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned;
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    // The verifier takes a second or two here; a helper that says nothing in 30 s is given up.
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      lines.next(),
      new Promise<IteratorResult<string>>((resolve) => (timer = setTimeout(() => resolve({ done: true, value: undefined }), START_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    const line = first.done ? '' : first.value;
    const m = /^ready (native|skb) (\d+)$/.exec(line);
    if (!m) {
      child.kill('SIGKILL');
      const why = line.startsWith('error ') ? line.slice(6) : `no answer (${stderr.trim().split('\n').pop() ?? 'exited'})`;
      throw new Error(why);
    }
    return new HelperProcess(child, m[1] as XdpMode, Number(m[2]), lines);
  }

  private async pump(lines: AsyncIterableIterator<string>): Promise<void> {
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
      const w = this.queue[0];
      if (!w) continue;
      if (w.multi && line !== 'end') {
        w.lines.push(line);
        continue;
      }
      this.queue.shift();
      if (!w.multi) w.lines.push(line);
      w.resolve(w.lines);
    }
  }

  private fail(e: Error): void {
    this.dead = e;
    for (const w of this.queue.splice(0)) w.reject(e);
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /** One command; resolves with its answer line(s). */
  command(line: string, multi = false): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.queue.push({ multi, lines: [], resolve, reject });
      this.child.stdin!.write(line + '\n');
    });
  }

  /** Closes the helper's stdin (it detaches and exits) and waits for it; SIGKILL after `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
