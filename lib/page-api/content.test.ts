/**
 * The content script's side of the page port (content.ts): a request waits
 * for the background's first page-view (it attached its listener then; a
 * message posted before could be lost while the service worker starts), and
 * the page hears only the three statuses.
 */
import { expect, test, vi } from 'vitest';

type Listener = (m: unknown) => void;
const ports: { posted: unknown[]; emit: Listener; disconnect: () => void }[] = [];
vi.mock('wxt/browser', () => ({
  browser: {
    runtime: {
      id: 'hushid',
      connect: () => {
        let onMsg: Listener = () => {};
        let onGone = () => {};
        const p = { posted: [] as unknown[], emit: (m: unknown) => onMsg(m), disconnect: () => onGone() };
        ports.push(p);
        return {
          postMessage: (m: unknown) => p.posted.push(m),
          disconnect: () => {},
          onMessage: { addListener: (f: Listener) => (onMsg = f) },
          onDisconnect: { addListener: (f: () => void) => (onGone = f) },
        };
      },
    },
  },
}));
const { PageIntegration } = await import('./content');

function fakeWindow() {
  const said: unknown[] = [];
  return { said, win: { location: { origin: 'https://shop.example' }, postMessage: (m: unknown) => said.push(m) } as unknown as Window };
}
const tick = () => new Promise((r) => setTimeout(r, 0));
const view = (call: unknown = null) => ({ kind: 'page-view', view: { call, indicator: true } });

test("a page request is sent only once the background's first page-view arrived, then started / ended reach the page", async () => {
  const { win, said } = fakeWindow();
  const app = new PageIntegration(win);
  app.start();
  const port = ports.at(-1)!;
  app.handle({ kind: 'page', origin: 'https://shop.example', data: { type: 'hush:call', address: 'hush1bob', id: 'r1' } });
  await tick();
  expect(port.posted).toEqual([]); // the background may not listen yet
  port.emit(view());
  await tick();
  expect(port.posted).toEqual([{ kind: 'dial', reqId: 1, address: 'hush1bob', via: 'page' }]);
  port.emit({ kind: 'dial-result', reqId: 1, ok: true, callId: 'c1' });
  await tick();
  expect(said).toEqual([{ type: 'hush:call-status', id: 'r1', status: 'started' }]);
  port.emit(view({ callId: 'c1', state: 'connected' }));
  expect(app.visible).toBe(true); // this tab's own call
  port.emit(view({ callId: 'c1', state: 'ended' }));
  expect(said.at(-1)).toEqual({ type: 'hush:call-status', id: 'r1', status: 'ended' });
  app.stop();
});

test('with the indicator off the bar stays hidden; a broken link shows its message without any page status', async () => {
  const { win, said } = fakeWindow();
  const app = new PageIntegration(win);
  app.start();
  const port = ports.at(-1)!;
  port.emit({ kind: 'page-view', view: { call: null, indicator: false } });
  app.handle({ kind: 'link', href: 'web+hush:hush1broken' });
  await tick();
  port.emit({ kind: 'dial-result', reqId: 1, ok: false, message: 'Not a Hush address.' });
  await tick();
  expect(app.state.error).toBe('Not a Hush address.');
  expect(app.visible).toBe(true);
  app.close();
  expect(app.visible).toBe(false);
  port.emit({ kind: 'page-view', view: { call: { callId: 'c9', state: 'connected' }, indicator: false } });
  expect(app.visible).toBe(false);
  expect(said).toEqual([]);
  app.stop();
});

test('a contact link (https://relay/c#card) is dialled as its card; a /c link of another host is not', async () => {
  const { win } = fakeWindow();
  const app = new PageIntegration(win);
  app.start();
  const port = ports.at(-1)!;
  port.emit(view());
  const { addressFromBundle } = await import('../crypto/address');
  const { identityFromSeed } = await import('../crypto/identity');
  const bob = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(5)).bundleBytes);
  app.handle({ kind: 'link', href: `https://evil.example/c#${bob}@relay.example` });
  app.handle({ kind: 'link', href: `https://relay.example/c#${bob}@relay.example` });
  await tick();
  expect(port.posted).toEqual([{ kind: 'dial', reqId: 1, address: `${bob}@relay.example`, via: 'link' }]);
  app.stop();
});

test('a click whose port drops before the answer (the service worker restarting) is sent again on the next port, not forgotten', async () => {
  const { win } = fakeWindow();
  const app = new PageIntegration(win);
  app.start();
  const first = ports.at(-1)!;
  first.emit(view());
  app.handle({ kind: 'link', href: 'web+hush:hush1broken' });
  await tick();
  expect(first.posted).toHaveLength(1);
  first.disconnect(); // the service worker went away with the request
  await vi.waitFor(() => expect(ports.at(-1)).not.toBe(first), { timeout: 2000 });
  const second = ports.at(-1)!;
  await tick();
  expect(second.posted).toEqual([]); // the new port's background may not listen yet
  second.emit(view());
  await tick();
  expect(second.posted).toEqual([{ kind: 'dial', reqId: 2, address: 'web+hush:hush1broken', via: 'link' }]);
  second.emit({ kind: 'dial-result', reqId: 2, ok: false, message: 'This Hush link is broken.' });
  await tick();
  expect(app.state.error).toBe('This Hush link is broken.');
  expect(app.visible).toBe(true);
  app.stop();
});

test('a port that drops before its first page-view keeps the request waiting for the next one', async () => {
  const { win } = fakeWindow();
  const app = new PageIntegration(win);
  app.start();
  const first = ports.at(-1)!;
  app.handle({ kind: 'link', href: 'web+hush:hush1x' });
  first.disconnect();
  await vi.waitFor(() => expect(ports.at(-1)).not.toBe(first), { timeout: 2000 });
  const second = ports.at(-1)!;
  second.emit(view());
  await tick();
  expect(first.posted).toEqual([]);
  expect(second.posted).toEqual([{ kind: 'dial', reqId: 1, address: 'web+hush:hush1x', via: 'link' }]);
  app.stop();
});
