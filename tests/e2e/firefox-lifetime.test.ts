/**
 * Why Hush ships an MV2 (persistent background page) build for Firefox, as a
 * test: what Firefox ESR does to each kind of background when nothing
 * happens. The background holds the signalling WebSocket: while it lives,
 * a call can ring; when Firefox unloads it, the relay sees the socket close
 * and the person is unreachable until something wakes the extension again.
 *
 * Firefox unloads an MV3 event page after `extensions.background.idle.timeout`
 * (30 s by default) without extension events; WebSocket traffic is not one
 * (toolkit/components/extensions/parent/ext-backgroundPage.js resets the
 * timer for extension events, API calls, native-messaging ports and stream
 * filters only). The test shortens the timeout to 2 s: the same mechanism,
 * in a test's time. The MV3 build is made here (`wxt build -b firefox --mv3`
 * into .output/firefox-mv3); the shipped one is .output/firefox-mv2. MV3's
 * default extension CSP adds `upgrade-insecure-requests`, which turns the
 * loopback relay's ws:// into an unreachable wss://; that test build gets
 * the same CSP without it (a real relay speaks wss:// anyway).
 *
 * Signalling only, so no network namespace is needed (Firefox's WebSocket
 * works on loopback; only its ICE does not).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIREFOX_EXTENSION_DIR, firefoxAvailable, geckoIdOf } from '../harness/firefox';
import { launchFirefoxSide, type FirefoxSide } from '../harness/firefox-hush';
import { startRelayProcess, REPO_ROOT, type RelayProcess } from '../harness/relay';
import { sleep } from '../harness/wait';

const MV3_DIR = resolve(REPO_ROOT, '.output/firefox-mv3');
const IDLE_TIMEOUT_MS = 2_000;
const WAIT_MS = 8_000;

const built = existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json'));
const haveFirefox = firefoxAvailable();
if (!built) console.warn(`Firefox lifetime test skipped: no build at ${FIREFOX_EXTENSION_DIR} (npx wxt build -b firefox)`);
if (!haveFirefox) console.warn('Firefox lifetime test skipped: firefox-esr is not installed');

describe.skipIf(!built || !haveFirefox)('Firefox background lifetime: MV2 persistent page vs MV3 event page', () => {
  let relay: RelayProcess;

  beforeAll(async () => {
    const r = spawnSync('npx', ['wxt', 'build', '-b', 'firefox', '--mv3'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`wxt build -b firefox --mv3 failed:\n${r.stdout}\n${r.stderr}`);
    const manifestPath = join(MV3_DIR, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    manifest.content_security_policy = { extension_pages: "script-src 'self'" };
    writeFileSync(manifestPath, JSON.stringify(manifest));
    relay = await startRelayProcess();
  });
  afterAll(async () => {
    await relay?.stop();
  });

  /** Established TCP connections to the relay's signalling port (one per connected extension). */
  function signallingConnections(): number {
    const r = spawnSync('ss', ['-Htn', 'state', 'established', `sport = :${relay.signalPort}`], { encoding: 'utf8' });
    return r.stdout.split('\n').filter((l) => l.trim()).length;
  }

  async function idleRun(extensionDir: string): Promise<{ before: number; after: number; state: string }> {
    const side: FirefoxSide = await launchFirefoxSide({
      signalUrl: relay.signalUrl,
      extensionDir,
      prefs: { 'extensions.background.idle.timeout': IDLE_TIMEOUT_MS },
    });
    try {
      const id = geckoIdOf(extensionDir);
      const before = signallingConnections();
      await side.popup.close(); // no extension page left open, nothing clicked
      await sleep(WAIT_MS); // intent: idle longer than the idle timeout, then see what is still alive
      const state = await side.fb.chrome<string>(`return WebExtensionPolicy.getByID(${JSON.stringify(id)})?.extension?.backgroundState ?? 'not installed';`);
      return { before, after: signallingConnections(), state };
    } finally {
      await side.close();
    }
  }

  test('MV2 (shipped): the background page stays, so does the signalling connection', async () => {
    const r = await idleRun(FIREFOX_EXTENSION_DIR);
    console.info(`firefox MV2 after ${WAIT_MS / 1000} s idle (idle timeout ${IDLE_TIMEOUT_MS} ms): background ${r.state}, signalling connections ${r.before} → ${r.after}`);
    expect(r.state).toBe('running');
    expect(r.before).toBe(1);
    expect(r.after).toBe(1);
  });

  test('MV3 (not shipped): the event page is unloaded and the signalling connection with it', async () => {
    const r = await idleRun(MV3_DIR);
    console.info(`firefox MV3 after ${WAIT_MS / 1000} s idle (idle timeout ${IDLE_TIMEOUT_MS} ms): background ${r.state}, signalling connections ${r.before} → ${r.after}`);
    expect(r.before).toBe(1);
    expect(r.state).toBe('stopped');
    expect(r.after).toBe(0);
  });
});
