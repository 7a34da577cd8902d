/**
 * Waiting in tests: `waitFor` polls for the thing a test is waiting for and, when it never comes, says
 * what it waited for (and what it saw last) instead of failing an assertion later with no context.
 * `sleep` is only for waits that are the test's intent (hold a call for N seconds, pace a flood, let
 * a period pass in which nothing may happen); each caller says why in a comment.
 */

export interface WaitOptions {
  /** How long to wait at most, in ms. */
  timeout: number;
  /**
   * What is awaited, for the timeout message: "the callee's popup to show the call". A function is
   * asked only on timeout, for a message that names what was seen last.
   */
  what: string | (() => string | Promise<string>);
  /** How often to poll, in ms (default 50). */
  interval?: number;
}

/**
 * Polls `predicate` until it returns a truthy value and returns that value. An error thrown by the
 * predicate ends the wait at once (a relay that exited will not start listening later); a predicate
 * for which an error only means "not yet" catches it itself.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + opts.timeout;
  const interval = opts.interval ?? 50;
  let last: T;
  for (;;) {
    last = await predicate();
    if (last) return last as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const what = typeof opts.what === 'string' ? opts.what : await opts.what();
  throw new Error(`timed out after ${opts.timeout} ms waiting for ${what}; last value: ${show(last)}`);
}

/** Waits `ms` milliseconds. Only where the wait itself is the point; say why at the call. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}…` : s;
  } catch {
    return String(v);
  }
}
