import { expect, test } from 'vitest';
import type { AppView } from '../messaging/view';
import { pageCall } from './bridge';

test('the in-page bar gets a narrow call view: name or address, never the SAS or the address book', () => {
  const view = {
    address: 'hush1me',
    relay: { state: 'online' },
    contacts: [{ address: 'hush1alice', name: 'Alice', verified: true, addedAt: 1 }],
    history: [{ direction: 'outgoing', address: 'hush1alice', at: 1, outcome: 'hangup' }],
    unseenMissed: 0,
    settings: { relays: [], privacyMode: false, ringtone: true },
    call: {
      callId: 'c1', direction: 'outgoing', peerAddress: 'hush1alice', peerName: 'Alice', peerVerified: true, peerKeyChanged: false,
      state: 'connected', path: 'p2p', muted: false, sas: '123 456', startedAt: 1, connectedAt: 2,
    },
  } as unknown as AppView;
  const c = pageCall(view)!;
  expect(c.peer).toBe('Alice');
  expect(JSON.stringify(c)).not.toMatch(/123 456|hush1me|hush1alice/);
  expect(Object.keys(c)).not.toContain('sas');
  const unnamed = pageCall({ ...view, call: { ...view.call!, peerName: undefined } })!;
  expect(unnamed).toMatchObject({ peer: 'hush1alice', peerIsContact: false });
  expect(pageCall({ ...view, call: null })).toBeNull();
});
