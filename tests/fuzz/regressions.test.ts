/**
 * Fuzz findings that need state to reproduce (a single input replayed on a
 * fresh target would not show them), rebuilt step by step. Each names the
 * entry in tests/fuzz/crashes/ it belongs to.
 */
import { describe, expect, test } from 'vitest';
import { Attr, Method } from '../../relay-server/src/stun/constants';
import { Rng } from './engine';
import { typicalRequests } from './targets/_stun-gen';
import { TurnWorld } from './targets/_turn-world';
import { decodeStun } from '../../relay-server/src/stun/message';

describe('fuzz regressions', () => {
  test('turn-client-signed: an Allocate with the transaction id of the one that made the allocation, but another username, is 437, not the cached answer', () => {
    const w = new TurnWorld();
    const rng = new Rng(1);
    const t = w.tuples[0]!;
    // typicalRequests() uses fixed transaction ids: bob's and alice's Allocate share one.
    const allocate = (user: string) =>
      typicalRequests(w.signer(t, user)).find((b) => {
        const d = decodeStun(b);
        return d.ok && d.value.method === Method.Allocate && d.value.integrityAt >= 0 && d.value.attributes.length === 5 && d.value.attributes[1]!.type === Attr.Lifetime;
      })!;
    const bob = w.users[1]!;
    const alice = w.users[0]!;
    expect(w.handle(t, allocate(bob), rng)).toMatch(/bind:success|bind:parked|bind:508/);
    if (!w.core.table.find(t)) w.bind([...w.core.pending.values()][0]!, true);
    expect(w.core.table.find(t)?.username).toBe(bob);
    // Bob's retransmission still gets the cached success.
    expect(w.handle(t, allocate(bob), rng)).toBe('Allocate/req+mi → success');
    // Alice's request with the same transaction id: before the fix, bob's cached answer (MI under bob's key).
    expect(w.handle(t, allocate(alice), rng)).toBe('Allocate/req+mi → 437');
  });
});
