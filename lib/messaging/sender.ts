/**
 * Who sent a runtime message or opened a port, as far as the background
 * trusts it: the one sender check of the extension (background UI requests,
 * the "view" port, the page bridge's "page" port).
 *
 * - 'extension': one of the extension's own pages (popup, options, call
 *   window, offscreen document); its URL is under runtime.getURL('/').
 * - 'web': anything else with a URL: a content script, i.e. a web page's
 *   renderer. It gets the page API (lib/page-api/bridge.ts), never the full view.
 * - 'internal': no URL at all, i.e. the background calling itself (for example
 *   the call window closed by hand becomes a hang-up, entrypoints/background.ts).
 */
import { browser } from 'wxt/browser';

export type SenderKind = 'extension' | 'web' | 'internal';

export function senderKind(sender?: { url?: string }): SenderKind {
  if (!sender?.url) return 'internal';
  return sender.url.startsWith(browser.runtime.getURL('/')) ? 'extension' : 'web';
}
