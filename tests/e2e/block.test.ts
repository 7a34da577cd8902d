/**
 * Issue 14, blocking through the real UI: two Chromium processes with the
 * built extension and a real relay. B is rung by A, a stranger: the prompt
 * says "Unknown caller" with A's address and never a name; B presses Block
 * (blocks and declines at once). A calls again: B's browser refuses the
 * HELLO before any answer, so A's popup ends "unreachable" after its own
 * handshake timeout, and B's browser shows nothing: no incoming view, no
 * notification, no history entry. Unblocking in B's options lets A ring again.
 * Then "Only my contacts may ring me", ticked in B's options, turns A (still
 * a stranger) away the same way; and a history row's Block blocks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { callState, click, dialByUi, dismiss, launchSide, request, waitCallState, type HushSide } from '../harness/hush';

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
});

type Sw = { chrome: { notifications: { getAll(): Promise<Record<string, unknown>> } } };
type View = { history: unknown[]; blocked?: string[] };

/** Until A's call ends: what B's browser showed meanwhile (call card states, notifications), polled. */
async function watchB(): Promise<string[]> {
  const w = await b.hb.worker();
  const seen = new Set<string>();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await callState(a.popup)) !== 'ended') {
    seen.add(await callState(b.popup));
    const notes = await w.evaluate(() => (globalThis as unknown as Sw).chrome.notifications.getAll());
    for (const id of Object.keys(notes)) seen.add(`notification:${id}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return [...seen];
}

async function openOptions(): Promise<Page> {
  const options = await b.hb.browser.newPage();
  await options.goto(`chrome-extension://${b.hb.extensionId}/options.html`);
  await options.waitForSelector('[data-testid="contacts-only"]', { timeout: 15_000 });
  return options;
}

const reason = (p: Page) => p.$eval('[data-testid="end-message"]', (e) => e.getAttribute('data-reason'));

describe('block a caller (issue 14)', () => {
  test('B blocks A from the incoming prompt; A then gets "unreachable" and B sees nothing; unblocking lets A ring again', async () => {
    // A stranger rings: unknown, with its address and a warning, never a name.
    await dialByUi(a.popup, b.address);
    await waitCallState(b.popup, 'incoming');
    expect(await b.popup.$eval('[data-testid="call-peer"]', (e) => e.textContent)).toBe('Unknown caller');
    expect(await b.popup.$eval('[data-testid="call-peer"]', (e) => e.getAttribute('data-address'))).toBe(a.address);
    expect(await b.popup.$eval('[data-testid="call-peer"]', (e) => e.getAttribute('data-known'))).toBe('false');
    expect(await b.popup.$('[data-testid="unknown-warning"]')).not.toBeNull();

    // Block from the prompt: blocked and declined at once.
    await click(b.popup, 'block-caller');
    await waitCallState(b.popup, 'ended');
    await waitCallState(a.popup, 'ended');
    expect(await reason(a.popup)).toBe('declined');
    expect(((await request(b.popup, 'get-view')) as View).blocked).toEqual([a.address]);
    await Promise.all([dismiss(a.popup), dismiss(b.popup)]);
    const historyBefore = ((await request(b.popup, 'get-view')) as View).history.length;

    // A calls again: B never answers, A's handshake timer ends the call "unreachable".
    await dialByUi(a.popup, b.address);
    const seenAtB = await watchB();
    await waitCallState(a.popup, 'ended', 5000);
    expect(await reason(a.popup)).toBe('unreachable');
    expect(seenAtB).toEqual(['']); // no call card, no notification, at any moment
    const after = (await request(b.popup, 'get-view')) as View;
    expect(after.history.length).toBe(historyBefore);
    await dismiss(a.popup);

    // Unblock in B's options: A rings again.
    const options = await openOptions();
    try {
      await options.waitForSelector('[data-testid="blocked-entry"]', { timeout: 15_000 });
      await options.click('[data-testid="unblock"]');
      await options.waitForSelector('[data-testid="blocked-none"]', { timeout: 5000 });
    } finally {
      await options.close();
    }
    await dialByUi(a.popup, b.address);
    await waitCallState(b.popup, 'incoming');
    await click(b.popup, 'decline');
    await waitCallState(a.popup, 'ended');
    await Promise.all([dismiss(a.popup), dismiss(b.popup)]);
  });

  test('"Only my contacts may ring me" turns a stranger away as "unreachable"; Block in a history row blocks', async () => {
    const options = await openOptions();
    try {
      await options.click('[data-testid="contacts-only"]');
      await options.waitForFunction(() => (document.querySelector('[data-testid="contacts-only"]') as HTMLInputElement).checked, { timeout: 5000 });
      const historyBefore = ((await request(b.popup, 'get-view')) as View).history.length;
      await dialByUi(a.popup, b.address);
      const seenAtB = await watchB();
      await waitCallState(a.popup, 'ended', 5000);
      expect(await reason(a.popup)).toBe('unreachable');
      expect(seenAtB).toEqual(['']);
      expect(((await request(b.popup, 'get-view')) as View).history.length).toBe(historyBefore);
      await dismiss(a.popup);
    } finally {
      await options.click('[data-testid="contacts-only"]');
      await options.close();
    }

    // B's history has A's earlier incoming calls: Block on that row.
    await b.popup.waitForSelector('[data-testid="history-block"]', { timeout: 5000 });
    await b.popup.click('[data-testid="history-block"]');
    await b.popup.waitForSelector('[data-testid="history-blocked"]', { timeout: 5000 });
    expect(((await request(b.popup, 'get-view')) as View).blocked).toEqual([a.address]);
    await request(b.popup, 'unblock-address', { address: a.address });
  });

  test('contacts only still lets a contact ring: the first call between contacts stores the tokens its next HELLO proves', async () => {
    await request(a.popup, 'add-contact', { address: b.address, name: 'Bea' });
    await request(b.popup, 'add-contact', { address: a.address, name: 'Abe' });
    try {
      await dialByUi(a.popup, b.address);
      await waitCallState(b.popup, 'incoming');
      expect(await b.popup.$eval('[data-testid="call-peer"]', (e) => e.textContent)).toBe('Abe');
      expect(await b.popup.$('[data-testid="unknown-warning"]')).toBeNull();
      await click(b.popup, 'decline');
      await waitCallState(a.popup, 'ended');
      await Promise.all([dismiss(a.popup), dismiss(b.popup)]);

      await request(b.popup, 'update-settings', { settings: { contactsOnly: true } });
      await dialByUi(a.popup, b.address);
      await waitCallState(b.popup, 'incoming');
      await click(b.popup, 'decline');
      await waitCallState(a.popup, 'ended');
      expect(await reason(a.popup)).toBe('declined');
      await Promise.all([dismiss(a.popup), dismiss(b.popup)]);

      // Block from the contacts: the contact's row (Edit) has Block; its next call is refused.
      const row = `[data-testid="contact"][data-address="${a.address}"]`;
      await b.popup.click(`${row} [data-testid="contact-edit"]`);
      await b.popup.click(`${row} [data-testid="contact-block"]`);
      await b.popup.waitForSelector(`${row} [data-testid="contact-blocked"]`, { timeout: 5000 });
      expect(((await request(b.popup, 'get-view')) as View).blocked).toEqual([a.address]);
      await dialByUi(a.popup, b.address);
      const seenAtB = await watchB();
      await waitCallState(a.popup, 'ended', 30_000);
      expect(await reason(a.popup)).toBe('unreachable');
      expect(seenAtB).toEqual(['']);
      await dismiss(a.popup);
      await request(b.popup, 'unblock-address', { address: a.address });
    } finally {
      await request(b.popup, 'update-settings', { settings: { contactsOnly: false } });
      await request(a.popup, 'delete-contact', { address: b.address });
      await request(b.popup, 'delete-contact', { address: a.address });
    }
  });
});
