import { expect, test } from 'vitest';
import { parsePageRequest, statusMessage } from './page-messages';

test('only hush:call requests parse; ids are echoed only when they are short tokens', () => {
  expect(parsePageRequest({ type: 'hush:call', address: 'hush1x', id: 'a-1' })).toEqual({ address: 'hush1x', id: 'a-1' });
  expect(parsePageRequest({ type: 'hush:call', address: 'hush1x', id: { evil: 1 } })).toEqual({ address: 'hush1x', id: undefined });
  expect(parsePageRequest({ type: 'hush:call', address: 'x'.repeat(500) })).toEqual({ address: '', id: undefined });
  for (const d of [null, 'hush:call', [], { type: 'hush:ping' }, { type: 'hush:call-status', status: 'started' }]) {
    expect(parsePageRequest(d)).toBeNull();
  }
  expect(statusMessage('started', 'a')).toEqual({ type: 'hush:call-status', id: 'a', status: 'started' });
  expect(statusMessage('ended')).toEqual({ type: 'hush:call-status', status: 'ended' });
});
