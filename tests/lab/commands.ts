/**
 * Checked command runners for the network lab. Every command the lab runs
 * goes through here, so every failure names the exact command line, its exit
 * status and what it printed on stderr: "`ip -n hlk3x-rtrA link set wan up`
 * failed (exit 1): Cannot find device "wan"".
 *
 * The async form is for setup and tests; the sync form exists only for the
 * process 'exit' hook, where nothing asynchronous can run any more.
 */
import { execFileSync, spawn } from 'node:child_process';

export class LabCommandError extends Error {
  readonly code = 'ERR_LAB_COMMAND';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    cause?: unknown,
  ) {
    const why = exitCode === null ? 'could not run' : `exit ${exitCode}`;
    super(`\`${command}\` failed (${why})${stderr.trim() ? `: ${stderr.trim()}` : ''}`, { cause });
    this.name = 'LabCommandError';
  }
}

/** Shell-like rendering of a command for error messages (quotes only when needed). */
export function showCommand(cmd: string, args: readonly string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [cmd, ...args].map(q).join(' ');
}

export interface RunOptions {
  /** Written to the command's stdin (e.g. an nft ruleset for `nft -f -`). */
  input?: string;
  /** Kill the command and fail after this long (default 30 s). */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Run a command to completion; throws LabCommandError unless it exits 0. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const shown = showCommand(cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed after ${opts.timeoutMs ?? 30_000} ms)`;
    }, opts.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new LabCommandError(shown, null, String(e), e));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new LabCommandError(shown, code, stderr));
    });
    child.stdin.on('error', () => {}); // a command that exits early closes its stdin: the exit code says why
    child.stdin.end(opts.input ?? '');
  });
}

/** The synchronous twin of run(), for exit hooks only. */
export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  try {
    const stdout = execFileSync(cmd, args, {
      input: opts.input ?? '',
      timeout: opts.timeoutMs ?? 10_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    }).toString();
    return { stdout, stderr: '' };
  } catch (e) {
    const err = e as { status?: number | null; stderr?: Buffer };
    throw new LabCommandError(showCommand(cmd, args), err.status ?? null, err.stderr?.toString() ?? String(e), e);
  }
}
