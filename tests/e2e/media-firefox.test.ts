/**
 * The media engine in real Firefox (Debian's firefox-esr, WebDriver BiDi):
 * the same encrypted loopback self-test as media-loopback.test.ts, on the
 * path Firefox takes: RTCRtpScriptTransform (Firefox has no
 * createEncodedStreams).
 *
 * How, and its limits:
 * - The built Firefox package's selftest.html is served from a local HTTP
 *   server (127.0.0.1 is a secure context), not from its moz-extension://
 *   origin: BiDi may not navigate to moz-extension:// (lab-notes.md), and the
 *   page uses no extension API. The bundle is byte for byte the one shipped.
 * - Firefox gathers no ICE candidates on a loopback-only host (lab-notes.md);
 *   this needs a machine with one non-loopback interface (the lab hosts have).
 * - Headless Firefox on a machine without a sound server runs no Web Audio
 *   graph: `media.cubeb.force_mock_context` gives it a mock audio backend
 *   that does. The fake microphone's tone is set by
 *   `media.navigator.audio.fake_frequency`.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitForReading, medianReading } from '../harness/audio';
import { openSelfTest, type SelfTest } from '../harness/selftest';
import { waitFor } from '../harness/wait';

const FIREFOX_DIR = resolve(import.meta.dirname, '../../.output/firefox-mv2');
const FIREFOX_BIN = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const CALLER_HZ = 440; // Firefox's fake microphone
const CALLEE_HZ = 660; // the callee's generated tone

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };

let server: Server;
let browser: Browser;
let selfTest: SelfTest;
let profile: string;

beforeAll(async () => {
  if (!existsSync(join(FIREFOX_DIR, 'selftest.html'))) {
    throw new Error(`no Firefox build at ${FIREFOX_DIR}: run \`npx wxt build -b firefox\` first`);
  }
  if (!existsSync(FIREFOX_BIN)) throw new Error(`Firefox not found at ${FIREFOX_BIN}: apt-get install -y firefox-esr, or set FIREFOX_PATH`);
  server = createServer(async (req, res) => {
    const path = normalize(join(FIREFOX_DIR, new URL(req.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(FIREFOX_DIR)) return void res.writeHead(403).end();
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  profile = await mkdtemp(join(tmpdir(), 'hush-firefox-'));
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_BIN,
    headless: true,
    protocol: 'webDriverBiDi',
    userDataDir: profile,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.navigator.audio.fake_frequency': CALLER_HZ,
      'media.cubeb.force_mock_context': true,
      'media.autoplay.default': 0,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
    },
  });
  selfTest = await openSelfTest(await browser.newPage(), `http://127.0.0.1:${port}/selftest.html`, { calleeToneHz: CALLEE_HZ }, 10_000);
});

afterAll(async () => {
  await browser?.close().catch(() => browser.process()?.kill('SIGKILL'));
  server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const start: SelfTest['start'] = (opts) => selfTest.start(opts);
const stop = () => selfTest.stop();
const stats = () => selfTest.stats();
const hears: SelfTest['hears'] = (role) => selfTest.hears(role);

describe('Firefox, matching keys', () => {
  let connectMs = 0;
  beforeAll(async () => {
    ({ connectMs } = await start({}));
  });
  afterAll(async () => {
    await stop();
  });

  test('each side hears the other\'s tone through the encrypted call', async () => {
    const callee = await waitForReading(hears('callee'), (r) => Math.abs(r.frequency - CALLER_HZ) <= 10 && r.rmsDb > -40);
    const caller = await waitForReading(hears('caller'), (r) => Math.abs(r.frequency - CALLEE_HZ) <= 10 && r.rmsDb > -40);
    console.info(
      `firefox: connected in ${connectMs.toFixed(0)} ms; callee hears ${callee.frequency.toFixed(1)} Hz at ${callee.rmsDb.toFixed(1)} dBFS, ` +
        `caller hears ${caller.frequency.toFixed(1)} Hz at ${caller.rmsDb.toFixed(1)} dBFS`,
    );
    expect(Math.abs(callee.frequency - CALLER_HZ)).toBeLessThanOrEqual(10);
    expect(callee.rmsDb).toBeGreaterThan(-40);
    expect(Math.abs(caller.frequency - CALLEE_HZ)).toBeLessThanOrEqual(10);
    expect(caller.rmsDb).toBeGreaterThan(-40);
  });

  test('frames are encrypted and decrypted by the worker, none dropped; the path is p2p', async () => {
    const s = await stats();
    for (const role of ['caller', 'callee'] as const) {
      expect(s[role].frames.encrypted).toBeGreaterThan(20);
      expect(s[role].frames.decrypted).toBeGreaterThan(20);
      expect(s[role].frames.dropped).toBe(0);
      expect(s[role].path).toBe('p2p');
    }
  });
});

describe('Firefox, wrong receive key on the callee', () => {
  beforeAll(async () => {
    await start({ corruptRecvKey: 'callee' });
  });
  afterAll(async () => {
    await stop();
  });

  test('the callee hears silence, every frame fails authentication; the caller still hears the callee', async () => {
    // Let frames flow first, so silence cannot be "nothing arrived yet".
    await waitFor(async () => {
      const f = (await stats()).callee.frames;
      return f.authFailed + f.decrypted > 20;
    }, { timeout: 10_000, what: 'more than 20 frames to reach the callee\'s decryptor' });
    const callee = await medianReading(hears('callee'));
    expect(callee.rmsDb < -60 || callee.frequency === 0, `callee heard ${callee.frequency} Hz at ${callee.rmsDb} dBFS`).toBe(true);
    const s = await stats();
    expect(s.callee.frames.authFailed).toBeGreaterThan(20);
    expect(s.callee.frames.decrypted).toBe(0);
    const caller = await waitForReading(hears('caller'), (r) => Math.abs(r.frequency - CALLEE_HZ) <= 10);
    expect(Math.abs(caller.frequency - CALLEE_HZ)).toBeLessThanOrEqual(10);
  });
});
