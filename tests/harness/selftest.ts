/**
 * Drives the extension's audio self-test page (entrypoints/selftest/, `globalThis.hushSelfTest`): an
 * encrypted loopback call between two CallMedia in one page. One driver for the media tests that were
 * each carrying a copy of it (media-loopback, media-relay: Chromium; media-firefox: Firefox serving
 * the same bundle over http). If the page's hook moves or is renamed, this is the one file to change.
 */
import type { Page } from 'puppeteer-core';
import type { CallStats, MediaEvent, Role } from '../../lib/media/types';
import type { LoopbackOptions } from '../../lib/media/loopback';
import { normaliseReading, type AudioReading } from './audio';

/** What the self-test page exposes (entrypoints/selftest/main.ts). */
export interface SelfTestHook {
  start(o: LoopbackOptions): Promise<{ connectMs: number }>;
  stats(): Promise<Record<Role, CallStats>>;
  analyse(): Record<Role, { frequency: number | null; rmsDb: number | null }>;
  stateEvents(): Record<Role, Extract<MediaEvent, { type: 'state' }>[]>;
  restartIce(): Promise<{ negotiateMs: number; reconnectMs: number }>;
  secretsWiped(): boolean;
  mute(role: Role, muted: boolean): void;
  stop(): void;
}
type HookGlobal = typeof globalThis & { hushSelfTest: SelfTestHook };

export interface SelfTest {
  page: Page;
  /** Starts a loopback call; `defaults` (given to openSelfTest) first, then `opts`. */
  start(opts?: LoopbackOptions): Promise<{ connectMs: number }>;
  stop(): Promise<void>;
  stats(): Promise<Record<Role, CallStats>>;
  stateEvents(): Promise<Record<Role, Extract<MediaEvent, { type: 'state' }>[]>>;
  restartIce(): Promise<{ negotiateMs: number; reconnectMs: number }>;
  secretsWiped(): Promise<boolean>;
  mute(role: Role, muted: boolean): Promise<void>;
  /** A reader of what `role` hears (for waitForReading / medianReading). */
  hears(role: Role): () => Promise<AudioReading>;
}

/** Opens the self-test page at `url` in `page` and waits for its hook. */
export async function openSelfTest(page: Page, url: string, defaults: LoopbackOptions = {}, timeout = 30_000): Promise<SelfTest> {
  await page.goto(url);
  await page.waitForFunction(() => 'hushSelfTest' in globalThis, { timeout });
  return {
    page,
    start: (opts = {}) => page.evaluate((o) => (globalThis as HookGlobal).hushSelfTest.start(o), { ...defaults, ...opts }),
    stop: () => page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.stop()),
    stats: () => page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.stats()),
    stateEvents: () => page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.stateEvents()),
    restartIce: () => page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.restartIce()),
    secretsWiped: () => page.evaluate(() => (globalThis as HookGlobal).hushSelfTest.secretsWiped()),
    mute: (role, muted) => page.evaluate((r, m) => (globalThis as HookGlobal).hushSelfTest.mute(r, m), role, muted),
    hears: (role) => async () => normaliseReading(await page.evaluate((r) => (globalThis as HookGlobal).hushSelfTest.analyse()[r], role)),
  };
}
