import { describe, expect, test } from 'vitest';
import { MicGate, type MicGateHost } from './mic-gate';

function host(state: 'granted' | 'denied' | 'prompt') {
  const closed: number[] = [];
  let listener: ((id: number) => void) | undefined;
  let opened = 0;
  const h: MicGateHost = {
    query: async () => state,
    openWindow: async () => ++opened,
    closeWindow: async (id) => void closed.push(id),
    onWindowClosed: (cb) => {
      listener = cb;
      return () => (listener = undefined);
    },
  };
  return { h, closed, opened: () => opened, personCloses: (id: number) => listener?.(id) };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('MicGate (Chrome: the permission window a call waits on)', () => {
  test('granted already: no window, no question', async () => {
    const x = host('granted');
    let asked = false;
    expect(await new MicGate(x.h).ask(() => (asked = true))).toBe('granted');
    expect(asked).toBe(false);
    expect(x.opened()).toBe(0);
  });

  test('prompt: the window opens; dismissed and denied keep waiting; granted goes on and closes it', async () => {
    const x = host('prompt');
    const g = new MicGate(x.h);
    let answer: string | undefined;
    let asked = 0;
    void g.ask(() => asked++).then((a) => (answer = a));
    await tick();
    expect([asked, x.opened()]).toEqual([1, 1]);
    g.report('dismissed');
    g.report('denied');
    await tick();
    expect(answer).toBeUndefined();
    g.report('granted');
    await tick();
    expect(answer).toBe('granted');
    expect(x.closed).toEqual([1]);
  });

  test('denied, then the person closes the window: closed', async () => {
    const x = host('denied');
    const g = new MicGate(x.h);
    const p = g.ask(() => {});
    await tick();
    g.report('denied');
    x.personCloses(1);
    expect(await p).toBe('closed');
  });

  test('the call ends while waiting: the window is closed, the wait settles', async () => {
    const x = host('prompt');
    const g = new MicGate(x.h);
    const p = g.ask(() => {});
    await tick();
    g.cancel();
    expect(await p).toBe('closed');
    expect(x.closed).toEqual([1]);
  });

  test('reports with no call waiting (the welcome page) are ignored', () => {
    const g = new MicGate(host('prompt').h);
    expect(() => g.report('granted')).not.toThrow();
  });
});
