import { describe, expect, test } from 'vitest';
import { sourceKey } from './source-key';

describe('sourceKey', () => {
  test('IPv4 is its own key; ::ffff: mapped is the IPv4 key', () => {
    expect(sourceKey('198.51.100.7')).toBe('198.51.100.7');
    expect(sourceKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
  });
  test('IPv6 addresses in one /64 share a key, another /64 does not', () => {
    const a = sourceKey('2001:db8:1:2::1');
    expect(sourceKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(a);
    expect(sourceKey('2001:0db8:0001:0002:0:0:0:9')).toBe(a);
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(a);
  });
  test('the prefix length is configurable, including non-byte lengths and /128', () => {
    expect(sourceKey('2001:db8:1:2::1', 48)).toBe(sourceKey('2001:db8:1:9::1', 48));
    expect(sourceKey('2001:db8:1:2::1', 60)).toBe(sourceKey('2001:db8:1:f::1', 60));
    expect(sourceKey('2001:db8:1:2::1', 60)).not.toBe(sourceKey('2001:db8:1:12::1', 60));
    expect(sourceKey('::1', 128)).not.toBe(sourceKey('::2', 128));
    expect(sourceKey('::1')).toBe(sourceKey('::2'));
  });
});
