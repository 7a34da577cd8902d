/**
 * The background decides page calls (issue 13): a page port's `dial` never
 * dials without an answer from the consent window, its "always" claim is
 * ignored, "always" is per (https origin, address), and a page cannot accept.
 */
import { expect, test, vi } from 'vitest';

vi.mock('wxt/browser', () => ({ browser: { runtime: { id: 'hushid', getURL: (p: string) => `chrome-extension://hushid${p}` }, tabs: { query: async () => [] } } }));
const { PageBridge } = await import('./bridge');
const { identityFromSeed } = await import('../crypto/identity');
const { addressFromBundle } = await import('../crypto/address');

const BOB = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(5)).bundleBytes);
const EVE = addressFromBundle(identityFromSeed(new Uint8Array(32).fill(6)).bundleBytes);

function setup() {
  const grants = new Set<string>();
  const dialed: string[] = [];
  const windows: { hash: string; closed: () => void }[] = [];
  const controls = { hangup: vi.fn(), mute: vi.fn(), dismiss: vi.fn(), accept: vi.fn() };
  const bridge = new PageBridge({
    view: () => ({ contacts: [{ address: BOB, name: 'Bob' }], settings: { ringtone: true }, call: null }) as never,
    dial: async (a) => (dialed.push(a), { callId: `c${dialed.length}` }),
    controls,
    grants: { allowed: async (o, a) => grants.has(`${o} ${a}`), grant: async (o, a) => void grants.add(`${o} ${a}`) },
    openWindow: async (hash, closed) => void windows.push({ hash, closed }),
  });
  return { bridge, grants, dialed, windows, controls };
}

function port(url: string) {
  const out: unknown[] = [];
  let onMsg: (m: unknown) => void = () => {};
  const p = {
    name: 'page',
    sender: { id: 'hushid', url, tab: { id: 1 } },
    postMessage: (m: unknown) => out.push(m),
    disconnect: vi.fn(),
    onDisconnect: { addListener: () => {} },
    onMessage: { addListener: (f: (m: unknown) => void) => (onMsg = f) },
  };
  return { p, out, send: async (m: unknown) => (onMsg(m), await new Promise((r) => setTimeout(r, 5))) };
}
const results = (out: unknown[]) => out.filter((m) => (m as { kind: string }).kind === 'dial-result');
const tokenOf = (hash: string) => hash.replace('consent=', '');

test('a page dial only opens the consent window; a forged "always" is ignored; Allow once dials once', async () => {
  const s = setup();
  const pt = port('https://shop.example/x');
  s.bridge.attach(pt.p as never);
  await pt.send({ kind: 'dial', reqId: 1, address: BOB, via: 'page', always: true });
  expect(s.dialed).toEqual([]);
  expect(s.windows).toHaveLength(1);
  expect(s.grants.size).toBe(0);
  const token = tokenOf(s.windows[0]!.hash);
  expect(s.bridge.consent(token)).toMatchObject({ origin: 'https://shop.example', address: BOB, name: 'Bob', canAlways: true });
  await s.bridge.answerConsent(token, 'once');
  expect(s.dialed).toEqual([BOB]);
  expect(results(pt.out)).toEqual([{ kind: 'dial-result', reqId: 1, ok: true, callId: 'c1' }]);
  // A token answers once.
  await s.bridge.answerConsent(token, 'once');
  expect(s.dialed).toHaveLength(1);
  // Once is once: the next request asks again.
  await pt.send({ kind: 'dial', reqId: 2, address: BOB, via: 'page' });
  expect(s.windows).toHaveLength(2);
});

test('"always" is per (https origin, address); http pages can only allow once; closing the window denies', async () => {
  const s = setup();
  const pt = port('https://shop.example/');
  s.bridge.attach(pt.p as never);
  await pt.send({ kind: 'dial', reqId: 1, address: BOB, via: 'page' });
  await s.bridge.answerConsent(tokenOf(s.windows[0]!.hash), 'always');
  expect(s.grants).toEqual(new Set([`https://shop.example ${BOB}`]));
  await pt.send({ kind: 'dial', reqId: 2, address: BOB, via: 'page' }); // granted: no window
  expect(s.windows).toHaveLength(1);
  expect(s.dialed).toEqual([BOB, BOB]);
  await pt.send({ kind: 'dial', reqId: 3, address: EVE, via: 'page' }); // another address: asks
  expect(s.windows).toHaveLength(2);
  s.windows[1]!.closed();
  await new Promise((r) => setTimeout(r, 5));
  expect(results(pt.out).at(-1)).toEqual({ kind: 'dial-result', reqId: 3, ok: false, message: '' });

  const http = port('http://shop.example/');
  s.bridge.attach(http.p as never);
  await http.send({ kind: 'dial', reqId: 1, address: BOB, via: 'page' });
  const t = tokenOf(s.windows[2]!.hash);
  expect(s.bridge.consent(t)?.canAlways).toBe(false);
  await s.bridge.answerConsent(t, 'always');
  expect([...s.grants].some((g) => g.startsWith('http:'))).toBe(false);
});

test('a page port cannot accept, and extension pages or tab-less senders get no page port', async () => {
  const s = setup();
  const pt = port('https://shop.example/');
  s.bridge.attach(pt.p as never);
  await pt.send({ kind: 'accept' });
  expect(s.controls.accept).not.toHaveBeenCalled();
  // No request of a page port opens anything but the consent window (the old "open" is gone).
  await pt.send({ kind: 'open' });
  expect(s.windows).toEqual([]);
  const ext = port('chrome-extension://hushid/popup.html');
  s.bridge.attach(ext.p as never);
  expect(ext.p.disconnect).toHaveBeenCalled();
  const noUrl = port('');
  s.bridge.attach(noUrl.p as never);
  expect(noUrl.p.disconnect).toHaveBeenCalled();
});

test('a card (from a web+hush: or contact link): the window names its address, Call dials the card with its relay', async () => {
  const s = setup();
  const pt = port('https://blog.example/');
  s.bridge.attach(pt.p as never);
  await pt.send({ kind: 'dial', reqId: 1, address: `${BOB}@relay.example`, via: 'link' });
  const token = tokenOf(s.windows[0]!.hash);
  expect(s.bridge.consent(token)).toMatchObject({ address: BOB, name: 'Bob', via: 'link' });
  await s.bridge.answerConsent(token, 'once');
  expect(s.dialed).toEqual([`${BOB}@relay.example`]);
  await pt.send({ kind: 'dial', reqId: 2, address: `${BOB}@bad host`, via: 'link' });
  expect(results(pt.out).at(-1)).toMatchObject({ reqId: 2, ok: false });
  expect(s.windows).toHaveLength(1);
});
