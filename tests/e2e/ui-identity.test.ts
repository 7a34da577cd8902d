/**
 * Issue 7, identity: the first-run backup banner, export to a
 * passphrase-encrypted file through the options page (a real download), and
 * import of that file on another browser through its options page (a real
 * file upload): a confirmation naming both addresses, a wrong passphrase
 * changes nothing, the right one moves the address. Two browsers, one relay.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { startRelayProcess, type RelayProcess } from '../harness/relay';
import { launchSide, typeInto, waitText, type HushSide } from '../harness/hush';
import { uploadFile } from '../harness/ui';
import { waitFor } from '../harness/wait';

let relay: RelayProcess;
let a: HushSide;
let b: HushSide;
let downloads: string;
const PASS = 'purple elephants dance at noon';

beforeAll(async () => {
  relay = await startRelayProcess(['--allow-peer', '127.0.0.0/8']);
  downloads = await mkdtemp(join(tmpdir(), 'hush-downloads-'));
  [a, b] = await Promise.all([launchSide({ signalUrl: relay.signalUrl }), launchSide({ signalUrl: relay.signalUrl })]);
  const cdp = await a.hb.browser.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await relay?.stop();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

async function openOptions(side: HushSide): Promise<Page> {
  const p = await side.hb.browser.newPage();
  await p.goto(`chrome-extension://${side.hb.extensionId}/options.html`);
  await p.waitForSelector('[data-testid="my-address"]', { timeout: 15_000 });
  return p;
}

async function waitFile(dir: string, timeoutMs = 20_000): Promise<string> {
  const f = await waitFor(async () => (await readdir(dir)).find((n) => n.endsWith('.json')), {
    timeout: timeoutMs,
    interval: 200,
    what: `a downloaded .json file in ${dir}`,
  });
  return join(dir, f);
}

let exported = '';

describe('identity backup', () => {
  test('a new identity shows the backup banner; its button opens the options page', async () => {
    await a.popup.bringToFront();
    await a.popup.waitForSelector('[data-testid="backup-banner"]', { timeout: 10_000 });
    const opened = a.hb.browser.waitForTarget((t) => t.url().endsWith('/options.html'), { timeout: 10_000 });
    await a.popup.click('[data-testid="backup-action"]');
    const options = (await (await opened).asPage())!;
    await options.waitForSelector('[data-testid="backup-banner"]', { timeout: 10_000 });
    await options.close();
  });

  test('export refuses a short or mistyped passphrase, then saves an encrypted file that names the address', async () => {
    const options = await openOptions(a);
    await typeInto(options, 'export-passphrase', 'short');
    await typeInto(options, 'export-repeat', 'short');
    await options.click('[data-testid="export-button"]');
    expect(await waitText(options, '[data-testid="export-error"]', (t) => t.length > 0)).toMatch(/at least 10 characters/);

    await typeInto(options, 'export-passphrase', PASS);
    await typeInto(options, 'export-repeat', PASS + 'x');
    await options.click('[data-testid="export-button"]');
    expect(await waitText(options, '[data-testid="export-error"]', (t) => /differ/.test(t))).toMatch(/differ/);

    await typeInto(options, 'export-repeat', PASS);
    await options.click('[data-testid="export-button"]');
    const done = await waitText(options, '[data-testid="export-done"]', (t) => t.length > 0, 30_000);
    expect(done).toContain(`hush-identity-${a.address.slice(0, 12)}.json`);
    exported = await waitFile(downloads);
    const text = await readFile(exported, 'utf8');
    const file = JSON.parse(text);
    expect(file).toMatchObject({ format: 'hush-identity', v: 1, address: a.address, kdf: { name: 'argon2id', m: 65536, t: 3, p: 1 } });
    expect(text).not.toMatch(/seed/i);
    // Exported once: the banner goes away, in the options page and the popup.
    await options.waitForSelector('[data-testid="backup-banner"]', { hidden: true, timeout: 5000 });
    await a.popup.waitForSelector('[data-testid="backup-banner"]', { hidden: true, timeout: 5000 });
    await options.close();
  });

  test('import on another browser: names both addresses; a wrong passphrase or an altered file changes nothing', async () => {
    const options = await openOptions(b);
    // Not an identity file at all.
    const junk = join(downloads, 'junk.txt');
    await writeFile(junk, '{"hello":"world"}');
    await uploadFile(options, 'import-file', junk);
    expect(await waitText(options, '[data-testid="import-error"]', (t) => t.length > 0)).toMatch(/not a Hush identity file/);

    await uploadFile(options, 'import-file', exported);
    expect(await waitText(options, '[data-testid="import-holds"]', (t) => t.includes(a.address))).toContain(a.address);
    // A wrong passphrase is said before anything asks to replace the identity.
    await typeInto(options, 'import-passphrase', 'not the passphrase');
    await options.click('[data-testid="import-button"]');
    expect(await waitText(options, '[data-testid="import-error"]', (t) => t.length > 0, 30_000)).toMatch(/passphrase is wrong/);
    expect(await options.$('[data-testid="import-confirm"]')).toBeNull();
    expect(await options.$eval('[data-testid="my-address"]', (e) => e.textContent)).toBe(b.address);

    // Same file with one ciphertext byte changed: refused the same way, nothing changed.
    const f = JSON.parse(await readFile(exported, 'utf8'));
    const ct = Buffer.from(f.ciphertext, 'base64');
    ct[0] = ct[0]! ^ 0x01;
    const tampered = join(downloads, 'tampered.json');
    await writeFile(tampered, JSON.stringify({ ...f, ciphertext: ct.toString('base64') }));
    await uploadFile(options, 'import-file', tampered);
    await waitText(options, '[data-testid="import-holds"]', (t) => t.includes(a.address));
    await typeInto(options, 'import-passphrase', PASS);
    await options.click('[data-testid="import-button"]');
    expect(await waitText(options, '[data-testid="import-error"]', (t) => /altered/.test(t), 30_000)).toMatch(/altered/);
    expect(await options.$('[data-testid="import-confirm"]')).toBeNull();
    expect(await b.popup.$eval('[data-testid="my-address"]', (e) => e.textContent)).toBe(b.address);
    await options.close();
  });

  test('import with the right passphrase: the address moves to this browser, which logs in with it', async () => {
    const options = await openOptions(b);
    await uploadFile(options, 'import-file', exported);
    await waitText(options, '[data-testid="import-holds"]', (t) => t.includes(a.address));
    await typeInto(options, 'import-passphrase', PASS);
    await options.click('[data-testid="import-button"]');
    await options.waitForSelector('[data-testid="import-verified"]', { timeout: 30_000 });
    await options.click('[data-testid="import-replace"]');
    expect(await waitText(options, '[data-testid="import-done"]', (t) => t.length > 0, 30_000)).toContain(a.address);
    await waitText(options, '[data-testid="my-address"]', (t) => t === a.address);
    await waitText(b.popup, '[data-testid="my-address"]', (t) => t === a.address);
    // The background re-created its signalling login for the imported identity.
    await waitText(b.popup, '[data-testid="relay-status"]', (t) => t === 'Connected to relay', 20_000);
    expect(await b.popup.$('[data-testid="backup-banner"]')).toBeNull();
    await options.close();
  });
});
