/**
 * What relay nodes tell each other through Redis (docs/operators.md, "More
 * than one machine"): one pub/sub message per envelope, on the channel of
 * the mailbox it is for. Nothing else crosses between nodes, and nothing is
 * stored in Redis: a node subscribed to a mailbox's channel *is* that
 * mailbox's presence, for exactly as long as a client holding it is
 * connected to that node (and that node to Redis).
 *
 * Channel:  hush:<realm>:mb:<mailbox id, 32 hex>
 *
 * Message, ASCII, '|'-separated:
 *
 *   ┌────┬───┬─────────┬───┬──────────────────┬───┬───────────────────────┐
 *   │ h1 │ | │ node id │ | │ from: mailbox id │ | │ data: standard base64 │
 *   └────┴───┴─────────┴───┴──────────────────┴───┴───────────────────────┘
 *     version   1-64 [A-Za-z0-9._-]   32 hex        the sealed envelope, as the client sent it
 *
 * The node id lets a node skip its own messages (it is subscribed to the
 * channels of the mailboxes it holds, so it hears its own publishes); it
 * names a machine, never a user. `from` is the sender's *proven* mailbox:
 * nodes trust each other's proofs, so Redis is a trust boundary (whoever can
 * publish there can claim any `from`; the end-to-end handshake still refuses
 * keys that do not match, lib/call/session.ts).
 */
import { MAILBOX_RE } from '../../../lib/signal/wire';

export const CLUSTER_VERSION = 'h1';
export const NODE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export function mailboxChannel(realm: string, mailbox: string): string {
  return `hush:${realm}:mb:${mailbox}`;
}

export function encodeClusterMessage(node: string, from: string, data: string): string {
  return `${CLUSTER_VERSION}|${node}|${from}|${data}`;
}

export interface ClusterMessage {
  node: string;
  from: string;
  data: string;
}

/** Parse one message; undefined for anything malformed or of another version (dropped). Never throws. */
export function decodeClusterMessage(text: string): ClusterMessage | undefined {
  const a = text.indexOf('|');
  const b = a < 0 ? -1 : text.indexOf('|', a + 1);
  const c = b < 0 ? -1 : text.indexOf('|', b + 1);
  if (c < 0 || text.slice(0, a) !== CLUSTER_VERSION) return undefined;
  const node = text.slice(a + 1, b);
  const from = text.slice(b + 1, c);
  const data = text.slice(c + 1);
  if (!NODE_ID_RE.test(node) || !MAILBOX_RE.test(from) || data.length === 0 || data.length > 100_000 || !/^[A-Za-z0-9+/=]+$/.test(data)) return undefined;
  return { node, from, data };
}
