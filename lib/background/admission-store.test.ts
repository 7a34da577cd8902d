import { beforeEach, expect, test, vi } from 'vitest';

const mem = new Map<string, unknown>();
vi.mock('./storage', () => {
  const item = <T,>(key: string, fallback: T) => ({
    getValue: async () => (mem.has(key) ? structuredClone(mem.get(key)) : fallback) as T,
    setValue: async (v: T) => void mem.set(key, structuredClone(v)),
  });
  return { admissionItem: item('admission', {}), blockedItem: item('blocked', []) };
});

const { AdmissionStore, ADMIT_RECV_KEPT } = await import('./admission-store');
const { identityFromSeed } = await import('../crypto/identity');
const { addressFromBundle, mailboxIdOfBundle } = await import('../crypto/address');

const peer = (n: number) => {
  const id = identityFromSeed(new Uint8Array(32).fill(n));
  return { address: addressFromBundle(id.bundleBytes), mailbox: mailboxIdOfBundle(id.bundleBytes) };
};
const A = peer(1);
const C = peer(3);
const tok = (n: number) => new Uint8Array(32).fill(n);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const all = () => true;

beforeEach(() => mem.clear());

test('a contact keeps the newest send token and the last 3 recv tokens, newest first, across a reload', async () => {
  const s = await AdmissionStore.load();
  for (let i = 1; i <= ADMIT_RECV_KEPT + 2; i++) await s.completed(A.address, { send: tok(100 + i), recv: tok(i) }, true);
  expect(hex(s.sendToken(A.address)!)).toBe(hex(tok(100 + ADMIT_RECV_KEPT + 2)));
  const recv = s.recvTokens(A.mailbox, all);
  expect(recv.map((r) => r.token[0])).toEqual([5, 4, 3]);
  expect(recv.every((r) => r.contactId === A.address)).toBe(true);
  // Only the tokens of the contacts at the HELLO's mailbox, and only while they are contacts.
  expect(s.recvTokens(C.mailbox, all)).toEqual([]);
  expect(s.recvTokens(A.mailbox, () => false)).toEqual([]);
  const again = await AdmissionStore.load();
  expect(again.recvTokens(A.mailbox, all).map((r) => r.token[0])).toEqual([5, 4, 3]);
  // Stored under their own key only.
  expect([...mem.keys()]).toEqual(['admission']);
});

test("a stranger's tokens are held in memory until added as a contact, or dropped", async () => {
  const s = await AdmissionStore.load();
  const t = { send: tok(7), recv: tok(8) };
  await s.completed(C.address, t, false);
  expect(s.sendToken(C.address)).toBeUndefined();
  expect(mem.get('admission')).toBeUndefined();
  await s.adopt(C.address);
  expect(s.sendToken(C.address)![0]).toBe(7);

  const u = { send: tok(9), recv: tok(10) };
  await s.completed(A.address, u, false);
  s.dropPending();
  expect(u.send.every((x) => x === 0) && u.recv.every((x) => x === 0)).toBe(true); // wiped
  await s.adopt(A.address);
  expect(s.sendToken(A.address)).toBeUndefined();

  await s.forget(C.address);
  expect(s.sendToken(C.address)).toBeUndefined();
  expect((await AdmissionStore.load()).sendToken(C.address)).toBeUndefined();
});

test('block by address (canonical, once), compared by mailbox id; unblock; a typo is refused', async () => {
  const s = await AdmissionStore.load();
  await s.block(`  ${A.address.toUpperCase()} `);
  await s.block(A.address);
  expect(s.blockedAddresses).toEqual([A.address]);
  expect(s.blocked.has(A.mailbox)).toBe(true);
  expect((await AdmissionStore.load()).blocked.has(A.mailbox)).toBe(true);
  await s.unblock(A.address);
  expect(s.blockedAddresses).toEqual([]);
  expect(s.blocked.has(A.mailbox)).toBe(false);
  await expect(s.block(A.address.slice(0, -1))).rejects.toMatchObject({ code: 'ERR_BAD_ADDRESS' });
});
