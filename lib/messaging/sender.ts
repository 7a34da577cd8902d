/**
 * Who sent a runtime message or opened a port, as far as the extension
 * trusts it: the one sender check of every context (background UI requests,
 * the "view" port, the page bridge's "page" port, the media hosts). Deny by
 * default: anything not provably ours is 'unknown' and gets nothing.
 *
 * - 'extension': one of the extension's own pages (popup, options, call
 *   window, offscreen document, the background): our id, a URL under
 *   runtime.getURL('/').
 * - 'web': our id with a web URL: a content script, i.e. a web page's
 *   renderer. It gets the page port (lib/page-api/bridge.ts), nothing else.
 * - 'internal': no sender object at all: the background calling its own
 *   handler (entrypoints/background.ts: the call window closed by hand). A
 *   real message always carries a sender.
 * - 'unknown': a sender without a URL or with another extension's id.
 */
import { browser } from 'wxt/browser';

export type SenderKind = 'extension' | 'web' | 'internal' | 'unknown';

export interface SenderLike {
  id?: string;
  url?: string;
  tab?: unknown;
}

export function senderKind(sender?: SenderLike): SenderKind {
  if (sender === undefined) return 'internal';
  if (!sender.url || (sender.id !== undefined && sender.id !== browser.runtime.id)) return 'unknown';
  return sender.url.startsWith(browser.runtime.getURL('/')) ? 'extension' : 'web';
}

/**
 * The background's own document: Chrome's service worker (background.js),
 * Firefox's generated background page (MV2, `background.scripts`).
 */
const BACKGROUND_PATHS = ['/background.js', '/_generated_background_page.html', '/background.html'] as const;

/**
 * Whether a message to a media host (offscreen document, call window) comes
 * from the background: the extension, no tab, the background's URL. Chrome
 * delivers runtime messages from every extension context to the offscreen
 * document, and a content script's carry `sender.tab`.
 */
export function isFromBackground(sender?: SenderLike): boolean {
  if (!sender || sender.tab !== undefined || senderKind(sender) !== 'extension') return false;
  const path = sender.url!.slice(browser.runtime.getURL('/').length - 1).split(/[?#]/)[0];
  return (BACKGROUND_PATHS as readonly string[]).includes(path!);
}

/** The background's runtime.onMessage: only the extension's own pages (content scripts use the page port). */
export function acceptsMessagesFrom(sender?: SenderLike): boolean {
  return senderKind(sender) === 'extension';
}
