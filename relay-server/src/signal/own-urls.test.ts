/** The URLs a relay accepts mailbox proofs for (own-urls.ts): its own, never the Host header's. */
import { describe, expect, test } from 'vitest';
import { ownSignalUrls } from './own-urls';

describe('ownSignalUrls', () => {
  test('--signal-url wins; else --public-host with our scheme and port; else the address the connection arrived on', () => {
    expect(ownSignalUrls({ signalUrl: 'wss://Relay.Example/signal', publicHost: 'x', tls: false, port: 8080, localAddress: '10.0.0.1' })).toEqual(['wss://relay.example:443/signal']);
    expect(ownSignalUrls({ signalUrl: null, publicHost: 'relay.example', tls: true, port: 8443, localAddress: '10.0.0.1' })).toEqual(['wss://relay.example:8443/signal']);
    expect(ownSignalUrls({ signalUrl: null, publicHost: null, tls: false, port: 8080, localAddress: '192.0.2.5' })).toEqual(['ws://192.0.2.5:8080/signal']);
  });

  test('loopback: the IP and localhost; IPv4-mapped and IPv6 forms', () => {
    expect(ownSignalUrls({ signalUrl: null, publicHost: null, tls: false, port: 9, localAddress: '::ffff:127.0.0.1' })).toEqual(['ws://127.0.0.1:9/signal', 'ws://localhost:9/signal']);
    expect(ownSignalUrls({ signalUrl: null, publicHost: null, tls: false, port: 9, localAddress: '::1' })).toEqual(['ws://[::1]:9/signal', 'ws://localhost:9/signal']);
    expect(ownSignalUrls({ signalUrl: null, publicHost: null, tls: true, port: 443, localAddress: '2001:db8::1' })).toEqual(['wss://[2001:db8::1]:443/signal']);
  });
});
