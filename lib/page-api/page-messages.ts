/**
 * The page API: what a web page may say to Hush and all it ever hears back
 * (docs/page-api.md). Pages speak with `window.postMessage` on their own
 * window; the content script is the only listener that answers.
 *
 *   page → Hush   { type: 'hush:call', address: 'hush1…' | 'web+hush:hush1…', id?: string }
 *   Hush → page   { type: 'hush:call-status', id?: string, status: 'started' | 'declined' | 'ended' }
 *
 * Nothing else is answered: no ping, no identity, no contact, no error text
 * (an invalid address is simply "declined"). `id` is echoed only when it is
 * a short token, so a page cannot make Hush carry anything back.
 */

export const PAGE_CALL = 'hush:call';
export const PAGE_CALL_STATUS = 'hush:call-status';

export type PageCallStatus = 'started' | 'declined' | 'ended';

export interface PageCallRequest {
  address: string;
  id?: string;
}

export interface PageCallStatusMessage {
  type: typeof PAGE_CALL_STATUS;
  id?: string;
  status: PageCallStatus;
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ADDRESS_MAX = 128;

/** A well-formed call request, or null for anything else (which is ignored, unanswered). */
export function parsePageRequest(data: unknown): PageCallRequest | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const d = data as Record<string, unknown>;
  if (d.type !== PAGE_CALL) return null;
  if (typeof d.address !== 'string' || d.address.length === 0 || d.address.length > ADDRESS_MAX) return { address: '', id: safeId(d.id) };
  return { address: d.address, id: safeId(d.id) };
}

export function statusMessage(status: PageCallStatus, id?: string): PageCallStatusMessage {
  return id === undefined ? { type: PAGE_CALL_STATUS, status } : { type: PAGE_CALL_STATUS, id, status };
}

function safeId(id: unknown): string | undefined {
  return typeof id === 'string' && ID_RE.test(id) ? id : undefined;
}
