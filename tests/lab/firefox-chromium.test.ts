/**
 * Firefox and Chrome call each other: one Firefox ESR in lab host A, one
 * Chromium in lab host B, each behind its own NAT router, the real
 * hush-relay in the lab's internet. The two browsers run different encoded-
 * transform plumbing (Firefox: RTCRtpScriptTransform only; Chromium: the same
 * API, legacy createEncodedStreams beside it) around the same frame format
 * (lib/crypto/frame-format.ts, frame-cipher.ts, lib/media/frame-transform.ts):
 * each side must decrypt every frame the other sends (decrypted > 0,
 * dropped 0) and hear the other's tone. A wrong byte anywhere in the format
 * and the receiver authenticates nothing (media-loopback's wrong-key test
 * shows what that sounds like: silence).
 *
 * Firefox's fake microphone plays 440 Hz (media.navigator.audio.fake_frequency),
 * Chromium's 880 Hz (a sox file). Every call action is a click in a popup.
 *
 * Root only; needs both builds (`npx wxt build && npx wxt build -b firefox`),
 * firefox-esr, chromium and sox.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FRAME_TAG_LEN } from '../../lib/crypto/constants';
import { parseHeader } from '../../lib/crypto/frame-format';
import { waitForReading, type AudioReading } from '../harness/audio';
import { EXTENSION_DIR } from '../harness/chromium';
import { FIREFOX_EXTENSION_DIR, firefoxAvailable } from '../harness/firefox';
import { launchChromiumSideInLab, launchFirefoxSide, type CallSide } from '../harness/firefox-hush';
import { callState, click, dialByUi, request, waitCallState, type StatsView } from '../harness/hush';
import { createLab, requireRoot, type Lab } from './netns';
import { startLabRelay, type LabRelay } from './relay-in-ns';

const FIREFOX_HZ = 440;
const CHROMIUM_HZ = 880;

const support = requireRoot();
const built = existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json')) && existsSync(join(EXTENSION_DIR, 'manifest.json'));
const haveFirefox = firefoxAvailable();
if (!support.skip && !built) console.warn('Firefox↔Chromium lab calls skipped: build both (`npx wxt build && npx wxt build -b firefox`)');
if (!support.skip && !haveFirefox) console.warn('Firefox↔Chromium lab calls skipped: firefox-esr is not installed (apt-get install -y firefox-esr)');

interface CallReport {
  connectMs: number;
  sas: string;
  callerHears: AudioReading;
  calleeHears: AudioReading;
  caller: StatsView;
  callee: StatsView;
}

describe.skipIf(support.skip || !built || !haveFirefox)('Firefox ↔ Chromium through the lab', () => {
  let lab: Lab;
  let relay: LabRelay;
  let ff: CallSide;
  let cr: CallSide;
  const hzOf = (s: CallSide) => (s === ff ? FIREFOX_HZ : CHROMIUM_HZ);

  beforeAll(async () => {
    lab = await createLab();
    relay = await startLabRelay(lab, { kind: 'hush' });
    [ff, cr] = await Promise.all([
      launchFirefoxSide({ toneHz: FIREFOX_HZ, signalUrl: relay.signalUrl!, netns: { lab, role: 'hostA' } }),
      launchChromiumSideInLab(lab, 'hostB', { toneHz: CHROMIUM_HZ, signalUrl: relay.signalUrl! }),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled([ff?.close(), cr?.close()]);
    await relay?.stop().catch(() => {});
    await lab?.destroy();
  });

  /** `caller` dials `callee` through the UI, `callee` accepts; both connected; the checks every call shares. */
  async function call(caller: CallSide, callee: CallSide): Promise<CallReport> {
    await dialByUi(caller.popup, callee.address);
    await waitCallState(callee.popup, 'incoming');
    expect(await callee.popup.$eval('[data-testid="call-peer"]', (e) => e.getAttribute('data-address'))).toBe(caller.address);
    await click(callee.popup, 'accept');
    const t0 = Date.now();
    await waitCallState(caller.popup, 'connected', 30_000);
    await waitCallState(callee.popup, 'connected', 30_000);
    const connectMs = Date.now() - t0;

    const sas = (await caller.popup.$eval('[data-testid="sas"]', (e) => e.textContent)) ?? '';
    expect(sas).toMatch(/^\d{3} \d{3}$/);
    expect(await callee.popup.$eval('[data-testid="sas"]', (e) => e.textContent)).toBe(sas);

    const near = (hz: number) => (r: AudioReading) => Math.abs(r.frequency - hz) < 10 && r.rmsDb > -40;
    const calleeHears = await waitForReading(() => callee.hears(), near(hzOf(caller)), { timeoutMs: 15_000 });
    const callerHears = await waitForReading(() => caller.hears(), near(hzOf(callee)), { timeoutMs: 15_000 });
    expect(Math.abs(calleeHears.frequency - hzOf(caller))).toBeLessThan(10);
    expect(calleeHears.rmsDb).toBeGreaterThan(-40);
    expect(Math.abs(callerHears.frequency - hzOf(callee))).toBeLessThan(10);
    expect(callerHears.rmsDb).toBeGreaterThan(-40);

    // Both ends decrypt what the other browser encrypted; nothing fails authentication.
    const [callerStats, calleeStats] = await Promise.all([caller.stats(), callee.stats()]);
    for (const st of [callerStats, calleeStats]) {
      expect(st.frames.encrypted).toBeGreaterThan(0);
      expect(st.frames.decrypted).toBeGreaterThan(0);
      expect(st.frames.dropped).toBe(0);
      expect(st.frames.authFailed).toBe(0);
    }
    return { connectMs, sas, callerHears, calleeHears, caller: callerStats, callee: calleeStats };
  }

  async function hangUp(by: CallSide, other: CallSide): Promise<void> {
    await click(by.popup, 'hangup');
    await waitCallState(by.popup, 'ended');
    await waitCallState(other.popup, 'ended');
    expect(await other.popup.$eval('[data-testid="end-message"]', (e) => e.getAttribute('data-reason'))).toBe('remote-hangup');
    for (const s of [by, other]) {
      if (await s.popup.$('[data-testid="close-call"]')) await s.popup.click('[data-testid="close-call"]');
    }
  }

  function log(label: string, r: CallReport): void {
    console.info(
      `${label}: accept→both connected ${r.connectMs} ms; SAS ${r.sas}; callee hears ${r.calleeHears.frequency.toFixed(1)} Hz at ` +
        `${r.calleeHears.rmsDb.toFixed(1)} dBFS, caller hears ${r.callerHears.frequency.toFixed(1)} Hz at ${r.callerHears.rmsDb.toFixed(1)} dBFS; ` +
        `frames caller enc/dec/drop ${r.caller.frames.encrypted}/${r.caller.frames.decrypted}/${r.caller.frames.dropped}, ` +
        `callee ${r.callee.frames.encrypted}/${r.callee.frames.decrypted}/${r.callee.frames.dropped}; path ${r.caller.path} ` +
        `(${r.caller.localType ?? '?'}→${r.caller.remoteType ?? '?'})`,
    );
  }

  test('Firefox calls Chromium: same SAS, each hears the other, every frame decrypts; p2p', async () => {
    const r = await call(ff, cr);
    log('firefox→chromium', r);
    expect(r.caller.path).toBe('p2p');
    expect(r.callee.path).toBe('p2p');
    await hangUp(ff, cr);
  });

  test('Chromium calls Firefox: same SAS, each hears the other, every frame decrypts; p2p', async () => {
    const r = await call(cr, ff);
    log('chromium→firefox', r);
    expect(r.caller.path).toBe('p2p');
    expect(r.callee.path).toBe('p2p');
    await hangUp(cr, ff);
  });

  test('the same bytes on the wire: both browsers\' sealed frames parse with the one frame format', async () => {
    // Test hook (session storage, read at media start): keep the first frames sent, plain and sealed.
    const TAP = 12;
    await ff.popup.evaluate((n) => (globalThis as unknown as { browser: { storage: { session: { set(v: object): Promise<void> } } } }).browser.storage.session.set({ testTapFrames: n }), TAP);
    await cr.popup.evaluate((n) => (globalThis as unknown as { chrome: { storage: { session: { set(v: object): Promise<void> } } } }).chrome.storage.session.set({ testTapFrames: n }), TAP);
    try {
      const r = await call(ff, cr);
      for (const [name, st] of [['firefox', r.caller], ['chromium', r.callee]] as const) {
        const tap = (st as unknown as { testTap?: { plain: string[]; sealed: string[] } }).testTap;
        expect(tap?.sealed.length, `${name} tapped frames`).toBe(TAP);
        let previous = -1;
        for (let i = 0; i < TAP; i++) {
          const plain = Buffer.from(tap!.plain[i]!, 'hex');
          const sealed = Buffer.from(tap!.sealed[i]!, 'hex');
          const h = parseHeader(sealed); // lib/crypto/frame-format.ts, run here in Node
          expect(h.kid, `${name} frame ${i} key id`).toBe(0);
          expect(h.counter, `${name} frame ${i} counter`).toBe(previous + 1);
          previous = h.counter;
          expect(sealed.length, `${name} frame ${i} overhead`).toBe(h.length + plain.length + FRAME_TAG_LEN);
          if (plain.length >= 8) expect(sealed.subarray(h.length, h.length + plain.length).equals(plain)).toBe(false);
        }
        console.info(`${name} sealed frames: counters 0..${previous}, overhead ${Buffer.from(tap!.sealed[0]!, 'hex').length - Buffer.from(tap!.plain[0]!, 'hex').length} B`);
      }
      await hangUp(ff, cr);
    } finally {
      await ff.popup.evaluate(() => (globalThis as unknown as { browser: { storage: { session: { set(v: object): Promise<void> } } } }).browser.storage.session.set({ testTapFrames: 0 }));
      await cr.popup.evaluate(() => (globalThis as unknown as { chrome: { storage: { session: { set(v: object): Promise<void> } } } }).chrome.storage.session.set({ testTapFrames: 0 }));
    }
  });

  test('relay only (privacy mode on Firefox): a relay candidate pair carries the call both ways', async () => {
    await request(ff.popup, 'update-settings', { settings: { privacyMode: true } });
    try {
      const r = await call(ff, cr);
      log('firefox→chromium, relay only', r);
      // Firefox offers only relay candidates: its end of the pair is its TURN allocation.
      expect(r.caller.localType).toBe('relay');
      expect(r.caller.path).toBe('relay');
      expect(r.callee.path).toBe('relay');
      expect(await ff.popup.$eval('[data-testid="call-path"]', (e) => e.getAttribute('data-path'))).toBe('relay');
      await hangUp(ff, cr);
    } finally {
      await request(ff.popup, 'update-settings', { settings: { privacyMode: false } });
      for (const s of [ff, cr]) {
        if (['dialing', 'ringing', 'incoming', 'connecting', 'connected', 'reconnecting'].includes(await callState(s.popup))) {
          await request(s.popup, 'hangup').catch(() => {});
        }
      }
    }
  });
});
