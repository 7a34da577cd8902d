// tests/harness/wait.ts: waitFor returns what it waited for, says what it waited for when it gives up,
// and stops at once on an error.
import { describe, expect, test } from 'vitest';
import { sleep, waitFor } from './wait';

describe('waitFor', () => {
  test('returns the first truthy value of the predicate', async () => {
    let n = 0;
    await expect(waitFor(() => ++n >= 3 && { n }, { timeout: 1000, interval: 1, what: 'n to reach 3' })).resolves.toEqual({ n: 3 });
  });

  test('on timeout, names what it waited for and the last value it saw', async () => {
    const t0 = Date.now();
    await expect(waitFor(() => 0, { timeout: 60, interval: 10, what: 'a count above zero' })).rejects.toThrow(
      'timed out after 60 ms waiting for a count above zero; last value: 0',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });

  test('a function for `what` is asked on timeout only', async () => {
    let asked = 0;
    const what = () => `the state (asked ${++asked})`;
    await expect(waitFor(() => true, { timeout: 50, what })).resolves.toBe(true);
    expect(asked).toBe(0);
    await expect(waitFor(() => false, { timeout: 20, what })).rejects.toThrow('waiting for the state (asked 1)');
  });

  test('an error from the predicate ends the wait at once', async () => {
    const t0 = Date.now();
    await expect(waitFor(() => { throw new Error('relay exited'); }, { timeout: 5000, what: 'x' })).rejects.toThrow('relay exited');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test('sleep waits', async () => {
    const t0 = Date.now();
    await sleep(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });
});
