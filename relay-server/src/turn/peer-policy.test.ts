/**
 * The peer policy, address by address: every spelling that reaches the
 * relay host or its private networks is denied (coturn CVE-2020-26262,
 * CVE-2026-27624), public addresses pass, and --allow-peer opens a range in
 * all its mapped spellings but no further.
 */
import { describe, expect, test } from 'vitest';
import { PeerPolicy, embeddedV4 } from './peer-policy';
import { parseIp } from '../ip';

const DENIED = [
  '10.0.0.1',
  '127.0.0.1',
  '127.255.255.254',
  '0.0.0.0',
  '0.1.2.3',
  '169.254.169.254',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '100.64.0.1',
  '100.127.255.255',
  '224.0.0.1',
  '239.255.255.250',
  '255.255.255.255',
  '240.0.0.1',
  '198.18.0.1',
  '192.0.0.170',
  '::',
  '::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:0.0.0.0',
  '::ffff:10.0.0.1',
  '::ffff:169.254.169.254',
  '::ffff:0:7f00:1',
  '::127.0.0.1',
  '::7f00:1',
  '64:ff9b::7f00:1',
  '64:ff9b::a00:1',
  '64:ff9b::169.254.169.254',
  '64:ff9b:1::1',
  '64:ff9b:1:ffff::8.8.8.8',
  '2002:7f00:1::1',
  '2002:a00:1::',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  'fe80::1',
  'fc00::1',
  'fd12:3456::1',
  'fec0::1',
  'ff02::1',
  '100::1',
];

const ALLOWED = ['8.8.8.8', '1.1.1.1', '192.0.2.1', '203.0.113.7', '::ffff:8.8.8.8', '64:ff9b::808:808', '2606:4700::1111', '2001:db8::1', '2002:808:808::1'];

describe('default peer policy', () => {
  const p = new PeerPolicy();
  test.each(DENIED)('%s is denied', (a) => {
    const v = p.check(a);
    expect(v.allowed).toBe(false);
  });
  test.each(ALLOWED)('%s is allowed', (a) => {
    expect(p.check(a)).toEqual({ allowed: true });
  });
  test('garbage is denied, not thrown', () => {
    for (const a of ['', 'localhost', '1.2.3', '::g', '1.2.3.4.5', '01.2.3.4', '[::1']) expect(p.check(a).allowed).toBe(false);
  });
});

describe('operator allow list', () => {
  const p = new PeerPolicy(['127.0.0.0/8', '10.1.0.0/16']);
  test('opens exactly the range, and its ::ffff: spelling', () => {
    expect(p.check('127.0.0.1').allowed).toBe(true);
    expect(p.check('::ffff:127.0.0.1').allowed).toBe(true);
    expect(p.check('10.1.2.3').allowed).toBe(true);
    expect(p.check('10.2.0.1').allowed).toBe(false);
    expect(p.check('169.254.169.254').allowed).toBe(false);
    expect(p.check('::1').allowed).toBe(false);
    expect(p.check('0.0.0.0').allowed).toBe(false);
  });
  test('NAT64 and 6to4 spellings of an allowed v4 range stay denied (another host reaches them)', () => {
    expect(p.check('64:ff9b::7f00:1').allowed).toBe(false);
    expect(p.check('2002:7f00:1::1').allowed).toBe(false);
  });
});

test('embeddedV4 unfolds the mapped forms', () => {
  const v4 = (s: string) => {
    const e = embeddedV4(parseIp(s)!);
    return e && `${[...e.v4].join('.')}${e.mapped ? ' mapped' : ''}`;
  };
  expect(v4('::ffff:7f00:1')).toBe('127.0.0.1 mapped');
  expect(v4('64:ff9b::a9fe:a9fe')).toBe('169.254.169.254');
  expect(v4('2002:c0a8:101::')).toBe('192.168.1.1');
  expect(v4('2606:4700::1111')).toBeUndefined();
});
