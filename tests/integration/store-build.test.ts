/**
 * The store builds carry no test hooks (style.md §14, lib/testing/hooks.ts):
 * `npm run zip` (HUSH_STORE_BUILD=1) into a temp directory, both zips
 * unpacked, and every bundled file searched for the hook names. The test
 * builds (`npm run build`) keep the hooks; the browser tests use them.
 *
 * The Firefox sources zip (what AMO's reviewers rebuild from) holds the
 * repository's source, hooks module included, by design: it is not searched
 * for absence, it is the control that the search finds a name that is there.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every name a hook goes by: session-storage keys, option fields, globals, the test page. */
const HOOK_NAMES = ['testWrongKey', 'hushCallTimeline', 'corruptRecvKey', 'testTapFrames', 'retryDirectMs', 'testToneHz', 'testOpusShape', 'testAboutToDialHoldMs', 'hushMediaServer', 'hushSelfTest', 'selftest'];

const work = mkdtempSync(join(tmpdir(), 'hush-store-'));
const zips: Record<string, string> = {};

beforeAll(() => {
  const out = join(work, 'out');
  // The real `npm run zip` (it sets HUSH_STORE_BUILD=1 itself); HUSH_OUT_DIR keeps .output/ (the test build) as it is.
  execFileSync('npm', ['run', 'zip'], { cwd: REPO_ROOT, env: { ...process.env, HUSH_OUT_DIR: out }, stdio: 'pipe' });
  for (const f of readdirSync(out)) {
    const kind = /^hush-.+-(chrome|firefox|sources)\.zip$/.exec(f)?.[1];
    if (!kind) continue;
    const dir = join(work, kind);
    mkdirSync(dir);
    execFileSync('unzip', ['-q', join(out, f), '-d', dir]);
    zips[kind] = dir;
  }
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** "file: name" for every hook name found in a file's bytes or its path. */
function hookHits(dir: string): string[] {
  const hits: string[] = [];
  for (const file of filesUnder(dir)) {
    const path = relative(dir, file);
    const text = `${path}\n${readFileSync(file, 'latin1')}`.toLowerCase();
    for (const name of HOOK_NAMES) if (text.includes(name.toLowerCase())) hits.push(`${path}: ${name}`);
  }
  return hits;
}

describe('store builds (npm run zip)', () => {
  for (const browser of ['chrome', 'firefox']) {
    test(`the ${browser} zip holds the extension and no test hook`, () => {
      const dir = zips[browser];
      expect(dir, `npm run zip made no ${browser} zip`).toBeDefined();
      const files = filesUnder(dir!).map((f) => relative(dir!, f));
      // Not vacuous: the zip holds the built extension.
      expect(files).toContain('manifest.json');
      expect(files).toContain('background.js');
      expect(files.filter((f) => f.endsWith('.js')).length).toBeGreaterThan(3);
      expect(hookHits(dir!)).toEqual([]);
    });
  }

  test('the search finds hook names where they are (the sources zip)', () => {
    expect(zips.sources, 'npm run zip made no sources zip').toBeDefined();
    const hits = hookHits(zips.sources!);
    for (const name of HOOK_NAMES) expect(hits.some((h) => h.endsWith(`: ${name}`)), name).toBe(true);
  });
});
