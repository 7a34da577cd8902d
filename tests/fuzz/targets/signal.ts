/**
 * The signalling protocol, both ends (docs/relay-protocol.md):
 *
 *   signal-server  parseClientMessage (relay-server/src/signal/messages.ts) on any text
 *                  frame, then the sans-IO SignalRouter on the same frame from a
 *                  challenged and from authenticated connections;
 *   signal-client  parseServerMessage (lib/signal/protocol.ts) on any text frame.
 *
 * Invariants: neither parser throws; what they accept has every field of the
 * type the union says; the router only answers with frames the client's
 * parser accepts, never verifies a proof from a connection that is not
 * waiting for one, closes only with documented codes, and keeps no state
 * for a frame (connections and mailboxes stay as the simulated shell set
 * them up).
 */
import { MAILBOX_RE } from '../../../lib/signal/wire';
import { idOf, isBase64, parseClientMessage } from '../../../relay-server/src/signal/messages';
import { CLOSE, SignalRouter, type SignalAction } from '../../../relay-server/src/signal/router';
import { parseServerMessage } from '../../../lib/signal/protocol';
import { enc, invariant, textOf, type FuzzTarget } from '../engine';
import { genJsonFrame, jsonDictionary, shapeOf, type JsonShape } from './_json-gen';

/** The fields each message type reads (outcome signatures note their JSON types). */
const CLIENT_FIELDS: Record<string, string[]> = { auth: ['mailbox', 'key', 'sig', 'id'], send: ['to', 'id', 'data'], turn: ['id'], ping: ['id'] };
const SERVER_FIELDS: Record<string, string[]> = {
  challenge: ['challenge', 'v'],
  ready: ['mailbox', 'turn'],
  deliver: ['data'],
  sent: ['id'],
  turn: ['turn', 'id'],
  pong: [],
  error: ['code', 'message', 'id'],
};

const CLIENT_SHAPE: JsonShape = { tag: 't', tags: ['auth', 'send', 'turn', 'ping', 'ready'], keys: ['mailbox', 'key', 'sig', 'to', 'id', 'data'], fields: CLIENT_FIELDS };
const SERVER_SHAPE: JsonShape = {
  tag: 't',
  tags: ['challenge', 'ready', 'deliver', 'sent', 'turn', 'pong', 'error'],
  keys: ['challenge', 'v', 'mailbox', 'turn', 'from', 'data', 'id', 'to', 'code', 'message', 'username', 'credential', 'ttl', 'urls', 'stunAlt'],
  fields: SERVER_FIELDS,
};

const MAILBOX_A = '3f2a9c0d41b7e8a65c1d0f9e2b4a7c63';
const MAILBOX_B = '9b1e47c2d0a35f68e2c4b7a901d3f5e2';
const CLOSE_CODES = new Set<number>(Object.values(CLOSE));
const TURN = { username: '1767225600:Yk3xQ0p9cF2mVt8A', credential: 'kq8cW9d3cQm4l2J1zVqS0y6u8Tg=', ttl: 3600, urls: ['turn:127.0.0.1:3478?transport=udp'] };

function checkParsed(text: string): string {
  const p = parseClientMessage(text);
  const id = p.id;
  if (id !== undefined) invariant(Number.isSafeInteger(id) && id >= 0, 'echoed id is not a non-negative integer');
  if (!p.ok) {
    invariant(p.code === 'ERR_BAD_MESSAGE', `unexpected error code ${p.code}`);
    return `err:${p.message}`;
  }
  const m = p.value;
  switch (m.t) {
    case 'auth':
      invariant(MAILBOX_RE.test(m.mailbox) && m.key instanceof Uint8Array && m.key.length === 32 && m.sig instanceof Uint8Array && m.sig.length === 64, 'auth fields not checked');
      break;
    case 'send':
      invariant(MAILBOX_RE.test(m.to) && Number.isSafeInteger(m.id) && m.id >= 0 && isBase64(m.data), 'send fields not checked');
      invariant(id === m.id && idOf(JSON.parse(text)) === m.id, 'send id not echoed');
      break;
    case 'turn':
      invariant(m.id === undefined || (Number.isSafeInteger(m.id) && m.id >= 0), 'turn id not checked');
      break;
    case 'ping':
      break;
    default: {
      const never: never = m;
      invariant(false, `unknown parsed type ${JSON.stringify(never)}`);
    }
  }
  return `ok:${m.t}`;
}

export async function signalServerTarget(): Promise<FuzzTarget> {
  let now = 1_800_000_000_000;
  let nextConn = 1;
  const router = new SignalRouter({
    turnInfo: () => TURN,
    randomBytes: (n) => new Uint8Array(n).fill(7),
    writable: () => true,
  });
  /** The simulated shell's connections: one waiting for auth, two authenticated (mailboxes A and B). */
  const conns = { challenged: 0, a: 0, b: 0 };
  const openConn = (mailbox?: string): number => {
    const c = nextConn++;
    router.open(c, now);
    if (mailbox) {
      router.message(c, JSON.stringify({ t: 'auth', mailbox, key: Buffer.alloc(32, c).toString('base64'), sig: Buffer.alloc(64).toString('base64') }), now);
      router.verified(c, { ok: true, mailbox }, now);
    }
    return c;
  };
  conns.challenged = openConn();
  conns.a = openConn(MAILBOX_A);
  conns.b = openConn(MAILBOX_B);

  return {
    name: 'signal-server',
    about: 'parseClientMessage + SignalRouter on any text frame: never throws, accepted fields are checked, every answer is a frame the client accepts, only documented close codes, no state kept per frame',
    seeds: [
      `{"t":"auth","mailbox":"${MAILBOX_A}","key":"${Buffer.alloc(32, 1).toString('base64')}","sig":"${Buffer.alloc(64, 2).toString('base64')}"}`,
      `{"t":"send","to":"${MAILBOX_B}","id":17,"data":"AAECAwQFBgc="}`,
      `{"t":"send","to":"${MAILBOX_A}","id":0,"data":""}`,
      '{"t":"turn","id":5}',
      '{"t":"turn"}',
      '{"t":"ping"}',
      '{"t":"send","to":"nope","id":-1}',
      '[]',
      'null',
      '',
    ].map(enc),
    maxLen: 4096,
    dictionary: jsonDictionary(CLIENT_SHAPE),
    generate: (rng) => genJsonFrame(rng, CLIENT_SHAPE),
    run(input, rng) {
      const text = textOf(input);
      const parsed = checkParsed(text);
      // Mostly slower than the 50/s limit, sometimes a burst.
      now += rng.chance(0.9) ? 25 : 0;
      const which = rng.int(10);
      const conn = which === 0 ? conns.challenged : which < 6 ? conns.a : conns.b;
      const actions = router.message(conn, text, now);
      const out: string[] = [];
      for (const a of actions) out.push(checkAction(a, conn));
      // The shell carries out closes; a fresh connection takes the slot.
      for (const a of actions) {
        if (a.kind !== 'close') continue;
        router.closed(a.conn);
        if (a.conn === conns.challenged) conns.challenged = openConn();
        if (a.conn === conns.a) conns.a = openConn(MAILBOX_A);
        if (a.conn === conns.b) conns.b = openConn(MAILBOX_B);
      }
      // A connection left verifying (its auth went to the verifier) gets its verdict.
      for (const a of actions) if (a.kind === 'verify') for (const x of router.verified(a.conn, { ok: false, code: rng.chance(0.5) ? 'ERR_BUSY' : 'ERR_AUTH' }, now)) checkAction(x, a.conn);
      for (const a of actions) {
        if (a.kind !== 'verify') continue;
        router.closed(a.conn);
        conns.challenged = openConn();
      }
      invariant(router.connections === 3 && router.liveMailboxes === 2, `router holds ${router.connections} connections and ${router.liveMailboxes} mailboxes, the shell 3 and 2`);
      return `${parsed} ${parsed.startsWith('ok') ? shapeOf(text, CLIENT_FIELDS[parsed.slice(3)] ?? []) : ''} | ${[...new Set(out)].join(',') || 'nothing'}`;
    },
  };

  function checkAction(a: SignalAction, from: number): string {
    switch (a.kind) {
      case 'send': {
        // What the relay says, the extension must understand.
        const wire = JSON.stringify(a.msg);
        const back = parseServerMessage(wire);
        invariant(back !== null && back.t === a.msg.t, `the client's parser refuses a frame the router sends: ${wire.slice(0, 200)}`);
        return a.msg.t === 'error' ? a.msg.code : a.msg.t;
      }
      case 'close':
        invariant(CLOSE_CODES.has(a.code), `undocumented close code ${a.code}`);
        return `close ${a.code}`;
      case 'verify':
        invariant(a.conn === conns.challenged && a.conn === from, 'verify for a connection that is not waiting for a proof');
        return 'verify';
      default:
        // Cluster actions (hold, release, publish) only with `cluster: true`, which this router is not.
        invariant(false, `unexpected router action ${(a as { kind: string }).kind}`);
    }
  }
}

export async function signalClientTarget(): Promise<FuzzTarget> {
  return {
    name: 'signal-client',
    about: 'parseServerMessage (the extension side) on any text frame: never throws; what it accepts has every field of its type',
    seeds: [
      '{"t":"challenge","challenge":"q1C7sXq4p2y2m3Jk6cXy3h6bM7c0dJZk2m1rM8x9QnE=","realm":"hush"}',
      `{"t":"ready","mailbox":"${MAILBOX_A}","turn":${JSON.stringify({ ...TURN, stunAlt: 'stun:127.0.0.1:3479' })}}`,
      `{"t":"deliver","from":"${MAILBOX_B}","data":"AAECAwQFBgc="}`,
      '{"t":"sent","id":17}',
      `{"t":"unreachable","id":17,"to":"${MAILBOX_B}"}`,
      `{"t":"turn","turn":${JSON.stringify(TURN)},"id":5}`,
      '{"t":"pong"}',
      '{"t":"error","code":"ERR_BAD_MESSAGE","message":"send needs \\"to\\"","id":17}',
      '{"t":"error","code":"ERR_BUSY"}',
    ].map(enc),
    maxLen: 4096,
    dictionary: jsonDictionary(SERVER_SHAPE),
    generate: (rng) => genJsonFrame(rng, SERVER_SHAPE),
    run(input) {
      const text = textOf(input);
      const m = parseServerMessage(text);
      if (m === null) return 'ignored';
      const s = (v: unknown) => typeof v === 'string';
      switch (m.t) {
        case 'challenge':
          invariant(s(m.challenge) && typeof m.v === 'number', 'challenge fields');
          break;
        case 'ready':
        case 'turn':
          invariant(m.t === 'turn' || s(m.mailbox), 'ready mailbox');
          invariant(s(m.turn.username) && s(m.turn.credential) && Array.isArray(m.turn.urls) && m.turn.urls.every(s), 'turn credentials');
          break;
        case 'deliver':
          invariant(s(m.data) && Object.keys(m).length === 2, 'deliver fields');
          break;
        case 'sent':
          invariant(typeof m.id === 'number', `${m.t} fields`);
          break;
        case 'pong':
          break;
        case 'error':
          invariant(s(m.code) && s(m.message) && (m.id === undefined || typeof m.id === 'number'), 'error fields');
          break;
        default: {
          const never: never = m;
          invariant(false, `accepted unknown type ${JSON.stringify(never)}`);
        }
      }
      return `accepted:${m.t} ${shapeOf(text, SERVER_FIELDS[m.t] ?? [])}`;
    },
  };
}
