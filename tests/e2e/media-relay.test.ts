/**
 * The media engine in privacy mode (relayOnly → iceTransportPolicy 'relay'),
 * in real Chromium, through a real TURN server: Debian's coturn on loopback.
 * Both sides of the self-test loopback call are relay-only, so every frame
 * goes caller → TURN → TURN → callee. The engine must say 'relay' and name
 * how it reaches the TURN server (relayProtocol udp / tcp), and the audio must
 * still arrive, decrypted.
 *
 * coturn is an outside truth here on purpose: Hush's own relay-server is
 * tested by its own suite; this file tests the engine against the reference.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../harness/ports';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'puppeteer-core';
import { launchWithExtension, type HushBrowser } from '../harness/chromium';
import { makeTone, normaliseReading, waitForReading, type AudioReading } from '../harness/audio';
import type { CallStats, MediaEvent, Role } from '../../lib/media/types';
import type { LoopbackOptions } from '../../lib/media/loopback';

const TONE_HZ = 440;
const USER = 'hush-test';
const PASS = 'hush-test-pass';

interface SelfTestHook {
  start(o: LoopbackOptions): Promise<{ connectMs: number }>;
  stats(): Promise<Record<Role, CallStats>>;
  analyse(): Record<Role, { frequency: number | null; rmsDb: number | null }>;
  stateEvents(): Record<Role, Extract<MediaEvent, { type: 'state' }>[]>;
  stop(): void;
}
type HookGlobal = typeof globalThis & { hushSelfTest: SelfTestHook };

let hb: HushBrowser;
let page: Page;
let turn: ChildProcess | undefined;
let port = 0;

async function waitForTcp(p: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(p, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`coturn did not listen on 127.0.0.1:${p}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  port = await freePort();
  turn = spawn(
    'turnserver',
    [
      '-n', '-L', '127.0.0.1', '-E', '127.0.0.1', '--listening-port', String(port),
      '--no-cli', '--no-tls', '--no-dtls', '--allow-loopback-peers',
      '--lt-cred-mech', '--user', `${USER}:${PASS}`, '--realm', 'hush.test',
      '--min-port', '49400', '--max-port', '49600', '--log-file', 'stdout',
    ],
    { stdio: 'ignore' },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    turn!.once('error', (e) => reject(new Error(`coturn did not start (apt-get install -y coturn): ${e.message}`)));
    turn!.once('spawn', () => resolve());
  });
  await spawned;
  await waitForTcp(port);
  hb = await launchWithExtension({ args: [`--use-file-for-fake-audio-capture=${makeTone(TONE_HZ)}`] });
  page = await hb.browser.newPage();
  await page.goto(`chrome-extension://${hb.extensionId}/selftest.html`);
  await page.waitForFunction(() => 'hushSelfTest' in globalThis);
});

afterAll(async () => {
  await hb?.close();
  if (turn?.pid) turn.kill('SIGTERM');
});

const hears = (role: Role) => async (): Promise<AudioReading> =>
  normaliseReading(await page.evaluate((r) => (globalThis as HookGlobal).hushSelfTest.analyse()[r], role));

describe.each(['udp', 'tcp'] as const)('relay only, TURN over %s', (transport) => {
  let connectMs = 0;
  beforeAll(async () => {
    const opts: LoopbackOptions = {
      relayOnly: true,
      iceServers: [{ urls: `turn:127.0.0.1:${port}?transport=${transport}`, username: USER, credential: PASS }],
    };
    ({ connectMs } = await page.evaluate((o) => (globalThis as HookGlobal).hushSelfTest.start(o), opts));
  });
  afterAll(async () => {
    await page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.stop());
  });

  test('both ends report a relayed path and how they reach the relay', async () => {
    const read = () => page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.stats());
    // Chromium may answer getStats() from a report cached just before the pair was selected, and the
    // peer's relay can first be learned from its check as prflx (RFC 8445 §7.3.1.3) until its
    // signalled candidate arrives. Both settle within a moment: wait for that, briefly.
    const settled = (x: Record<Role, CallStats>) => (['caller', 'callee'] as const).every((r) => x[r].path === 'relay' && x[r].remoteType === 'relay');
    let s = await read();
    for (let i = 0; i < 30 && !settled(s); i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await read();
    }
    // The engine told its owner too: the latest state event says relay.
    const events = await page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.stateEvents());
    for (const role of ['caller', 'callee'] as const) expect(events[role].at(-1), role).toMatchObject({ connection: 'connected', path: 'relay' });
    console.info(`relay/${transport}: createOffer → connected in ${connectMs.toFixed(0)} ms`);
    for (const role of ['caller', 'callee'] as const) {
      expect(s[role]).toMatchObject({ path: 'relay', localType: 'relay', remoteType: 'relay', relayProtocol: transport });
    }
  });

  test('the audio arrives through the relay, decrypted', async () => {
    const heard = await waitForReading(hears('callee'), (r) => Math.abs(r.frequency - TONE_HZ) <= 10 && r.rmsDb > -40);
    expect(Math.abs(heard.frequency - TONE_HZ)).toBeLessThanOrEqual(10);
    expect(heard.rmsDb).toBeGreaterThan(-40);
    const s = await page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.stats());
    expect(s.callee.frames.decrypted).toBeGreaterThan(10);
    expect(s.callee.frames.dropped).toBe(0);
  });
});
