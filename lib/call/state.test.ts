/**
 * The whole transition table of state.ts, written out by hand: for every
 * (state, event) pair the expected next state (and end reason), or `·` when
 * the event is ignored in that state. A new state or event fails here until
 * its row and column are written.
 */
import { describe, expect, test } from 'vitest';
import { CallState, isLive, isVisible, next, waitsForMicrophone, type CallEvent } from './state';

const STATES = [
  CallState.Handshaking,
  CallState.DialWaitingMic,
  CallState.Dialing,
  CallState.Ringing,
  CallState.Incoming,
  CallState.AnswerWaitingMic,
  CallState.PeerWaitingMic,
  CallState.Connecting,
  CallState.Connected,
  CallState.Reconnecting,
  CallState.Ended,
] as const;

// Columns, in the order of STATES:
//   handshaking | dial-waiting-mic | dialing | ringing | incoming | answer-waiting-mic | peer-waiting-mic
//   | connecting | connected | reconnecting | ended
// Cells: `·` ignored; `ended` silent end (no reason); `ended:<reason>`; otherwise the next state.
const H = 'ended:mic-denied';
const TABLE: Record<CallEvent['type'], string[]> = {
  // prettier-ignore
  ring:               ['incoming', '·', '·', '·', '·', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'silent-end':       ['ended', '·', '·', '·', '·', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'remote-ringing':   ['·', '·', 'ringing', '·', '·', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'remote-accept':    ['·', '·', 'connecting', 'connecting', '·', '·', 'connecting', '·', '·', '·', '·'],
  // prettier-ignore
  'local-accept':     ['·', '·', '·', '·', 'answer-waiting-mic', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'media-connected':  ['·', '·', '·', '·', '·', '·', '·', 'connected', '·', 'connected', '·'],
  // prettier-ignore
  'media-lost':       ['·', '·', '·', '·', '·', '·', '·', '·', 'reconnecting', '·', '·'],
  // prettier-ignore
  'local-hangup':     ['·', 'ended:cancelled', 'ended:cancelled', 'ended:cancelled', 'ended:declined-local', 'ended:declined-local', 'ended:cancelled', 'ended:hangup', 'ended:hangup', 'ended:hangup', '·'],
  // prettier-ignore
  'remote-hangup':    ['·', 'ended:remote-hangup', 'ended:remote-hangup', 'ended:remote-hangup', 'ended:missed', 'ended:remote-hangup', 'ended:remote-hangup', 'ended:remote-hangup', 'ended:remote-hangup', 'ended:remote-hangup', '·'],
  // prettier-ignore
  'remote-decline':   ['·', '·', 'ended:declined', 'ended:declined', '·', '·', 'ended:declined', '·', '·', '·', '·'],
  // prettier-ignore
  'remote-busy':      ['·', '·', 'ended:busy', 'ended:busy', '·', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  unreachable:        ['·', '·', 'ended:unreachable', 'ended:unreachable', '·', '·', 'ended:unreachable', 'ended:unreachable', '·', '·', '·'],
  // prettier-ignore
  'handshake-failed': ['ended', '·', 'ended:handshake-failed', '·', 'ended:handshake-failed', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'ring-timeout':     ['·', '·', 'ended:no-answer', 'ended:no-answer', 'ended:missed', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'media-failed':     ['·', '·', '·', '·', '·', '·', '·', 'ended:media-failed', 'ended:media-failed', 'ended:connection-lost', '·'],
  // prettier-ignore
  'media-error':      ['·', H, H, H, H, H, H, H, H, H, '·'],
  // prettier-ignore
  'relay-down':       ['·', '·', 'ended:relay-unreachable', 'ended:relay-unreachable', 'ended:relay-unreachable', 'ended:relay-unreachable', 'ended:relay-unreachable', '·', '·', '·', '·'],
  // prettier-ignore
  'peer-relays-down': ['·', '·', 'ended:peer-relays-unreachable', '·', '·', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'mic-granted':      ['·', 'dialing', '·', '·', '·', 'connecting', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'mic-refused':      ['·', H, '·', '·', '·', H, '·', '·', '·', '·', '·'],
  // prettier-ignore
  'mic-wait-timeout': ['·', H, '·', '·', '·', H, 'ended:remote-mic-denied', '·', '·', '·', '·'],
  // prettier-ignore
  'remote-answering': ['·', '·', 'peer-waiting-mic', 'peer-waiting-mic', '·', '·', '·', '·', '·', '·', '·'],
  // prettier-ignore
  'remote-mic-denied':['·', '·', 'ended:remote-mic-denied', 'ended:remote-mic-denied', '·', '·', 'ended:remote-mic-denied', '·', '·', '·', '·'],
};

/** One event of each type (the mapped type fails to compile when an event is missing). */
const EVENTS: { [K in CallEvent['type']]: Extract<CallEvent, { type: K }> } = {
  ring: { type: 'ring' },
  'silent-end': { type: 'silent-end' },
  'remote-ringing': { type: 'remote-ringing' },
  'remote-accept': { type: 'remote-accept' },
  'local-accept': { type: 'local-accept' },
  'media-connected': { type: 'media-connected' },
  'media-lost': { type: 'media-lost' },
  'local-hangup': { type: 'local-hangup' },
  'remote-hangup': { type: 'remote-hangup' },
  'remote-decline': { type: 'remote-decline' },
  'remote-busy': { type: 'remote-busy' },
  unreachable: { type: 'unreachable' },
  'handshake-failed': { type: 'handshake-failed' },
  'ring-timeout': { type: 'ring-timeout' },
  'media-failed': { type: 'media-failed' },
  'media-error': { type: 'media-error', reason: 'mic-denied' },
  'relay-down': { type: 'relay-down' },
  'peer-relays-down': { type: 'peer-relays-down' },
  'mic-granted': { type: 'mic-granted' },
  'mic-refused': { type: 'mic-refused' },
  'mic-wait-timeout': { type: 'mic-wait-timeout' },
  'remote-answering': { type: 'remote-answering' },
  'remote-mic-denied': { type: 'remote-mic-denied' },
};

function cell(t: ReturnType<typeof next>): string {
  if (!t) return '·';
  return t.reason ? `${t.state}:${t.reason}` : t.state;
}

describe('call state machine', () => {
  test('the table covers every event and every state', () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(EVENTS).sort());
    expect([...STATES].sort()).toEqual(Object.values(CallState).sort());
    for (const row of Object.values(TABLE)) expect(row).toHaveLength(STATES.length);
  });

  for (const [type, ev] of Object.entries(EVENTS)) {
    test(`${type}: every state`, () => {
      const got = STATES.map((s) => cell(next(s, ev)));
      expect(got).toEqual(TABLE[ev.type]);
    });
  }

  test('media-error ends with the reason it carries', () => {
    for (const reason of ['mic-denied', 'no-microphone', 'media-failed'] as const) {
      expect(next(CallState.Connected, { type: 'media-error', reason })).toEqual({ state: 'ended', reason });
    }
  });

  test('predicates name every state', () => {
    expect(STATES.filter(isLive)).toEqual([
      'dial-waiting-mic',
      'dialing',
      'ringing',
      'incoming',
      'answer-waiting-mic',
      'peer-waiting-mic',
      'connecting',
      'connected',
      'reconnecting',
    ]);
    expect(STATES.filter(waitsForMicrophone)).toEqual(['dial-waiting-mic', 'answer-waiting-mic', 'peer-waiting-mic']);
    expect(STATES.filter((s) => !isVisible(s))).toEqual(['handshaking']);
  });
});
