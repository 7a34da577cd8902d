/** Relay URLs (relay-url.ts): one canonical form, and wss:// for every host but loopback. */
import { describe, expect, test } from 'vitest';
import { canonicalForm, canonicalRelayUrl, isLoopbackHost, relayUrlProblem } from './relay-url';

describe('relay URLs', () => {
  test('canonical: lower case, explicit port, path kept, query and fragment dropped', () => {
    expect(canonicalRelayUrl('WSS://Relay.Example/signal')).toBe('wss://relay.example:443/signal');
    expect(canonicalRelayUrl(' wss://relay.example:8443/signal?x=1#y ')).toBe('wss://relay.example:8443/signal');
    expect(canonicalRelayUrl('ws://127.0.0.1:8080/signal')).toBe('ws://127.0.0.1:8080/signal');
    expect(canonicalRelayUrl('ws://localhost/signal')).toBe('ws://localhost:80/signal');
    expect(canonicalRelayUrl('ws://[::1]:9/signal')).toBe('ws://[::1]:9/signal');
    expect(canonicalRelayUrl('wss://relay.example')).toBe('wss://relay.example:443/');
  });

  test('ws:// to a remote host is refused with a sentence that says to use wss://', () => {
    for (const u of ['ws://relay.example/signal', 'ws://203.0.113.10:8080/signal', 'ws://10.0.0.1/signal', 'ws://[2001:db8::1]/signal']) {
      expect(() => canonicalRelayUrl(u), u).toThrow(/wss:\/\//);
      expect(relayUrlProblem(u)).toMatch(/unencrypted/);
    }
    // The test builds' exception for the NAT lab (lib/testing/hooks.ts) is the caller's to pass.
    expect(canonicalRelayUrl('ws://203.0.113.10:8080/signal', { insecureAllowed: (h) => h === '203.0.113.10' })).toBe('ws://203.0.113.10:8080/signal');
    // The relay's own canonical form applies no rule.
    expect(canonicalForm('ws://relay.example/signal')).toBe('ws://relay.example:80/signal');
  });

  test('not a relay URL: a sentence, never a crash', () => {
    for (const u of ['', 'relay.example', 'https://relay.example/signal', 'wss://user:pw@relay.example/signal', 42 as unknown as string]) {
      expect(relayUrlProblem(u), String(u)).toMatch(/relay address|user name/);
    }
    expect(relayUrlProblem('wss://relay.example/signal')).toBeNull();
  });

  test('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', 'localhost', '::1', '[::1]', 'a.localhost']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['128.0.0.1', 'localhost.example', '10.0.0.1', '::2', 'example']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
