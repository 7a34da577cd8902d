/**
 * Code run with a content script's powers: CDP `Runtime.evaluate` in the
 * extension's isolated world of a web page (lab-notes "Turn 2 findings"),
 * a faithful stand-in for a compromised renderer (design.md, Trust boundaries).
 */
import type { CDPSession, Page } from 'puppeteer-core';
import { waitFor } from './wait';

export interface IsolatedWorld {
  /** Evaluate an expression (awaited, returned by value) in the content script's world. */
  run<T>(expression: string): Promise<T>;
  session: CDPSession;
}

export async function isolatedWorld(page: Page, extensionId: string): Promise<IsolatedWorld> {
  const session = await page.createCDPSession();
  const ids: number[] = [];
  // Puppeteer has isolated worlds of its own: the extension's is the one whose origin is the extension.
  session.on('Runtime.executionContextCreated', (e: { context: { id: number; origin?: string; auxData?: { type?: string; frameId?: string } } }) => {
    if (e.context.auxData?.type === 'isolated' && e.context.origin === `chrome-extension://${extensionId}`) ids.push(e.context.id);
  });
  await session.send('Runtime.enable');
  // The world exists once the content script ran; a reload makes sure it is reported after enable.
  const id = await waitFor(async () => ids.at(-1), { timeout: 10_000, what: "the content script's isolated world" }).catch(async () => {
    await page.reload({ waitUntil: 'load' });
    return waitFor(async () => ids.at(-1), { timeout: 10_000, what: "the content script's isolated world after a reload" });
  });
  return {
    session,
    async run<T>(expression: string) {
      const r = (await session.send('Runtime.evaluate', { expression, contextId: id, awaitPromise: true, returnByValue: true })) as {
        result: { value?: unknown };
        exceptionDetails?: { text?: string; exception?: { description?: string } };
      };
      if (r.exceptionDetails) throw new Error(`isolated world: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value as T;
    },
  };
}
