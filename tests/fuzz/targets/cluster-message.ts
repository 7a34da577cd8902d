/**
 * What relay nodes tell each other through Redis
 * (relay-server/src/signal/cluster-message.ts): Redis is a trust boundary,
 * so the parser meets whatever was published there. Invariants:
 * decodeClusterMessage never throws; what it accepts has a valid node id,
 * a mailbox id and base64 data, and re-encodes to exactly the text it came from.
 */
import { decodeClusterMessage, encodeClusterMessage, NODE_ID_RE } from '../../../relay-server/src/signal/cluster-message';
import { MAILBOX_RE } from '../../../lib/signal/wire';
import { enc, invariant, textOf, type FuzzTarget } from '../engine';

const FROM = '3f2a9c0d41b7e8a65c1d0f9e2b4a7c63';

/** Which field makes a text malformed (the outcome signature: one branch of the parser each). */
function why(text: string): string {
  const parts = text.split('|');
  if (parts.length < 4) return `${parts.length - 1} separators`;
  const [v, node, from] = parts as [string, string, string];
  const data = parts.slice(3).join('|');
  if (v !== 'h1') return 'version';
  if (!NODE_ID_RE.test(node)) return node.length === 0 ? 'empty node' : node.length > 64 ? 'long node' : 'node characters';
  if (!MAILBOX_RE.test(from)) return 'from';
  if (data.length === 0) return 'empty data';
  return data.length > 100_000 ? 'long data' : 'data characters';
}

export async function clusterMessageTarget(): Promise<FuzzTarget> {
  return {
    name: 'cluster-message',
    about: 'decodeClusterMessage on any text from Redis: never throws; accepted messages have valid fields and re-encode to the same text',
    seeds: [`h1|node-a|${FROM}|AAECAwQFBgc=`, `h1|n|${FROM}|A`, `h2|node-a|${FROM}|AAAA`, 'h1|||', `h1|node-a|${FROM}|AA|AA`].map(enc),
    maxLen: 2048,
    dictionary: ['|', 'h1', 'h1|', FROM, 'AAAA', '=', '\u0000', '\ud800', 'x'.repeat(64)].map(enc),
    generate(rng) {
      const parts = [rng.chance(0.9) ? 'h1' : 'h2', rng.chance(0.8) ? 'node-' + rng.int(1000) : 'x'.repeat(rng.int(80)), rng.chance(0.8) ? FROM : FROM.toUpperCase(), rng.chance(0.9) ? Buffer.from(rng.bytes(rng.int(100))).toString('base64') : 'not base64!'];
      return enc(parts.join(rng.chance(0.95) ? '|' : '||'));
    },
    run(input) {
      const text = textOf(input);
      const m = decodeClusterMessage(text);
      if (m === undefined) return `dropped: ${why(text)}`;
      invariant(NODE_ID_RE.test(m.node) && MAILBOX_RE.test(m.from) && /^[A-Za-z0-9+/=]+$/.test(m.data) && m.data.length <= 100_000, 'accepted a malformed field');
      invariant(encodeClusterMessage(m.node, m.from, m.data) === text, 'accepted message does not re-encode to its text');
      return 'accepted';
    },
  };
}
