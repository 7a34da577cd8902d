/**
 * Issue 7, contacts: add by QR code (B shows its QR in the popup; A reads a
 * picture of it), by pasted link; rename; delete; the verified badge after a
 * SAS check in a call; and the key-change warning when a contact's address
 * is replaced (they made a new identity), until a new SAS check. Also the
 * ringtone switch, the on-device history's clear button, and the popup
 * screenshot for the README. Two browsers, one relay, real UI throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { click, launchSide, typeInto, request, waitCallState, waitText, type HushSide } from '../harness/hush';
import { screenshotPath, uploadFile } from '../harness/ui';
import { addressFromBundle } from '../../lib/crypto/address';
import { identityFromSeed } from '../../lib/crypto/identity';
import { exportIdentityFile } from '../../lib/crypto/identity-file';

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;
const qrPng = join(tmpdir(), `hush-qr-${process.pid}.png`);
const newIdentityFile = join(tmpdir(), `hush-new-identity-${process.pid}.json`);
const NEW_PASS = 'a brand new identity for bob';

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  [a, b] = await Promise.all([launchSide({ toneHz: 440, signalUrl: relay.signalUrl }), launchSide({ toneHz: 880, signalUrl: relay.signalUrl })]);
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
  await rm(qrPng, { force: true });
  await rm(newIdentityFile, { force: true });
});

const contact = (p: Page, address: string) => `[data-testid="contact"][data-address="${address}"]`;

async function openAdd(p: Page): Promise<void> {
  const open = await p.$eval('details.add-contact', (d) => (d as HTMLDetailsElement).open);
  if (!open) await p.click('details.add-contact > summary');
}

/** B answers from its popup; returns once both sides are connected. */
async function callBob(expectRinging: 'true' | 'false'): Promise<void> {
  await a.popup.bringToFront();
  await a.popup.click(`[data-testid="contact-call"]`);
  await waitCallState(b.popup, 'incoming');
  expect(await b.popup.$eval('[data-testid="call"]', (e) => e.getAttribute('data-ringing'))).toBe(expectRinging);
  // The ringtone itself plays in the media host (the offscreen document), so it rings with no page open.
  if (expectRinging === 'true') {
    const off = await b.hb.offscreen();
    expect(await off.evaluate(() => (globalThis as unknown as { hushMediaServer: { ringing: boolean } }).hushMediaServer.ringing)).toBe(true);
  }
  await b.popup.bringToFront();
  await click(b.popup, 'accept');
  await waitCallState(a.popup, 'connected');
  await waitCallState(b.popup, 'connected');
  await a.popup.bringToFront();
}

async function hangUp(): Promise<void> {
  await click(a.popup, 'hangup');
  await waitCallState(b.popup, 'ended');
  await request(a.popup, 'dismiss-call');
  await request(b.popup, 'dismiss-call');
  await a.popup.waitForSelector('[data-testid="contacts"]', { timeout: 5000 });
}

describe('contacts', () => {
  test('add by QR code: B shows its QR, A reads a picture of it', async () => {
    await b.popup.bringToFront();
    await b.popup.click('[data-testid="show-qr"]');
    const qr = await b.popup.waitForSelector('[data-testid="qr"]', { visible: true });
    expect(await qr!.evaluate((e) => e.getAttribute('aria-label'))).toContain(b.address);
    await qr!.screenshot({ path: qrPng });
    expect((await stat(qrPng)).size).toBeGreaterThan(200);

    await a.popup.bringToFront();
    await openAdd(a.popup);
    await uploadFile(a.popup, 'contact-qr', qrPng);
    await a.popup.waitForFunction((addr) => (document.querySelector('[data-testid="contact-address"]') as HTMLInputElement).value === addr, { timeout: 10_000 }, b.address);
    await typeInto(a.popup, '[data-testid="contact-name"]', 'Bob');
    await a.popup.click('[data-testid="contact-add"]');
    await a.popup.waitForSelector(contact(a.popup, b.address), { timeout: 5000 });
    expect(await a.popup.$eval(`${contact(a.popup, b.address)} [data-testid="contact-label"]`, (e) => e.textContent)).toBe('Bob');
  });

  test('a picture without a QR code is refused with a sentence', async () => {
    const blank = join(tmpdir(), `hush-blank-${process.pid}.png`);
    await a.popup.screenshot({ path: blank, clip: { x: 0, y: 0, width: 40, height: 40 } });
    await uploadFile(a.popup, 'contact-qr', blank);
    expect(await waitText(a.popup, '[data-testid="contact-error"]', (t) => t.length > 0)).toMatch(/No Hush QR code/);
    await rm(blank, { force: true });
  });

  test('add by pasted link; rename; delete (after a confirmation)', async () => {
    const carol = addressFromBundle(identityFromSeed(crypto.getRandomValues(new Uint8Array(32))).bundleBytes);
    await openAdd(a.popup);
    await typeInto(a.popup, '[data-testid="contact-name"]', 'Carol');
    await typeInto(a.popup, '[data-testid="contact-address"]', `WEB+HUSH:${carol.toUpperCase()}`);
    await a.popup.click('[data-testid="contact-add"]');
    const row = contact(a.popup, carol);
    await a.popup.waitForSelector(row, { timeout: 5000 });

    await a.popup.click(`${row} [data-testid="contact-edit"]`);
    await typeInto(a.popup, `${row} [data-testid="edit-name"]`, 'Caroline');
    await a.popup.click(`${row} [data-testid="edit-save"]`);
    await waitText(a.popup, `${row} [data-testid="contact-label"]`, (t) => t === 'Caroline');

    await a.popup.click(`${row} [data-testid="contact-edit"]`);
    await a.popup.click(`${row} [data-testid="contact-delete"]`);
    expect(await waitText(a.popup, `${row} [data-testid="contact-delete-confirm"]`, (t) => t.length > 0)).toContain('Caroline');
    await a.popup.click(`${row} [data-testid="contact-delete-confirm"]`);
    await a.popup.waitForSelector(row, { hidden: true, timeout: 5000 });
  });

  test('a SAS check in a call marks the contact verified (and B\'s phone rang)', async () => {
    await callBob('true');
    await click(a.popup, 'mark-verified');
    await a.popup.waitForSelector('[data-testid="peer-verified"]', { timeout: 5000 });
    await hangUp();
    const row = contact(a.popup, b.address);
    await a.popup.waitForSelector(`${row} [data-testid="verified-badge"]`, { timeout: 5000 });
    expect(await a.popup.$(`${row} [data-testid="contact-key-changed"]`)).toBeNull();
  });

  test('Bob makes a new identity; A replaces his address by link: warning until a new SAS check', async () => {
    // Bob "reinstalls": his browser imports a brand-new identity (a file made here), and his ringtone is off.
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const newB = addressFromBundle(identityFromSeed(seed).bundleBytes);
    await writeFile(newIdentityFile, JSON.stringify(await exportIdentityFile(seed, NEW_PASS, { kdf: { m: 8192, t: 1 } })));
    const options = await b.hb.browser.newPage();
    await options.goto(`chrome-extension://${b.hb.extensionId}/options.html`);
    await options.waitForSelector('[data-testid="ringtone"]');
    await options.click('[data-testid="ringtone"]');
    await uploadFile(options, 'import-file', newIdentityFile);
    await typeInto(options, '[data-testid="import-passphrase"]', NEW_PASS);
    await options.click('[data-testid="import-button"]');
    await options.waitForSelector('[data-testid="import-verified"]', { timeout: 30_000 });
    await options.click('[data-testid="import-replace"]');
    await waitText(options, '[data-testid="import-done"]', (t) => t.includes(newB), 20_000);
    expect(await options.$eval('[data-testid="ringtone"]', (e) => (e as HTMLInputElement).checked)).toBe(false);
    await options.close();
    await waitText(b.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);

    // A gets Bob's new link and updates the contact.
    await a.popup.bringToFront();
    const oldRow = contact(a.popup, b.address);
    await a.popup.click(`${oldRow} [data-testid="contact-edit"]`);
    await typeInto(a.popup, `${oldRow} [data-testid="edit-address"]`, `web+hush:${newB}`);
    await a.popup.click(`${oldRow} [data-testid="edit-save"]`);
    const row = contact(a.popup, newB);
    await a.popup.waitForSelector(`${row}[data-key-changed="true"]`, { timeout: 5000 });
    expect(await waitText(a.popup, `${row} [data-testid="contact-key-changed"]`, (t) => t.length > 0)).toMatch(/New keys/);
    expect(await a.popup.$(`${row} [data-testid="verified-badge"]`)).toBeNull();
    expect(await a.popup.$eval(`${row} [data-testid="contact-label"]`, (e) => e.textContent)).toBe('Bob');

    // The call view warns; a new SAS check clears it.
    await callBob('false');
    expect(await waitText(a.popup, '[data-testid="key-changed"]', (t) => t.length > 0)).toMatch(/keys changed/);
    await click(a.popup, 'mark-verified');
    await a.popup.waitForSelector('[data-testid="key-changed"]', { hidden: true, timeout: 5000 });
    await hangUp();
    await a.popup.waitForSelector(`${row}[data-key-changed="false"] [data-testid="verified-badge"]`, { timeout: 5000 });
  });

  test('history is on this device, with a clear button (and the popup screenshot)', async () => {
    await a.popup.bringToFront();
    await a.popup.setViewport({ width: 400, height: 760 });
    const entries = await a.popup.$$('[data-testid="history-entry"]');
    expect(entries.length).toBe(2);
    await a.popup.screenshot({ path: screenshotPath('popup.png') });
    await a.popup.click('[data-testid="history-clear"]');
    await a.popup.waitForSelector('[data-testid="history"]', { hidden: true, timeout: 5000 });
    const view = (await request(a.popup, 'get-view')) as { history: unknown[] };
    expect(view.history).toEqual([]);
  });
});
