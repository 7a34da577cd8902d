/**
 * The Hush test kit: drive Hush in real browsers from Puppeteer-based tests,
 * through what a person does (the extension's own UI) and the page API.
 * Reference and examples: docs/testing.md.
 *
 *   const relay = await startRelay();
 *   const alice = await launchHush({ relay: relay.url });
 *   const bob = await launchHush({ relay: relay.url });
 *   await alice.dial(bob.address()); await bob.accept();
 *   await alice.waitForState('connected');
 */
import type { Hush } from './hush';

export { launchHush, Hush, type LaunchHushOptions, type CallStateName, type EndReason, type Heard } from './hush';
export { HushPage, type CallStatus } from './page';
export { startRelay, checkRelayReachable, type LocalRelay, type StartRelayOptions } from './relay';
export { KitError, type KitErrorCode } from './errors';
export type { LogLine } from './artifacts';

/** The part of a test runner's per-test context the kit reads (vitest's afterEach context fits). */
export interface TestContextLike {
  task: { name: string; result?: { state?: string } };
}

/**
 * An `afterEach` hook that writes every browser's artifacts (extension logs,
 * screenshots) to `dir` when the test failed, and does nothing when it passed:
 *
 *   afterEach(artifactsOnFailure(() => [alice, bob], 'test-artifacts'));
 *
 * `browsers` is a function so that browsers launched in beforeAll are seen.
 * The folder defaults to $HUSH_ARTIFACTS_DIR, else ./test-artifacts.
 */
export function artifactsOnFailure(browsers: () => (Hush | undefined)[], dir = process.env.HUSH_ARTIFACTS_DIR ?? 'test-artifacts') {
  return async (ctx: TestContextLike): Promise<void> => {
    if (ctx.task.result?.state !== 'fail') return;
    const slug = ctx.task.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60);
    const written: string[] = [];
    let i = 0;
    for (const h of browsers()) {
      i++;
      if (h) written.push(...(await h.collectArtifacts(dir, `${slug}-browser${i}`).catch(() => [])));
    }
    console.warn(`test "${ctx.task.name}" failed: artifacts in ${dir} (${written.length} files)`);
  };
}
