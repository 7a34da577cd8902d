import { describe, expect, test } from 'vitest';
import { SendBudget, type QueuedReader } from './send-budget';

function reader(buffered: number, log: number[]): QueuedReader {
  return { buffered, close: () => log.push(buffered) };
}

describe('SendBudget', () => {
  test('under the budget nothing is closed', () => {
    const log: number[] = [];
    const b = new SendBudget(1000);
    b.add(() => [reader(400, log), reader(500, log)]);
    expect(b.enforce()).toBe(0);
    expect(b.lastTotal).toBe(900);
  });
  test('over it, the readers holding the most are closed until the sum fits, over every source', () => {
    const log: number[] = [];
    const b = new SendBudget(1000);
    b.add(() => [reader(300, log), reader(0, log), reader(900, log)]);
    b.add(() => [reader(600, log), reader(10, log)]);
    // 1,810 bytes: closing the 900 leaves 910, under the budget; the 600 and the rest stay.
    expect(b.enforce()).toBe(1);
    expect(log).toEqual([900]);
    b.add(() => [reader(700, log)]);
    // 2,510: the 900 (2,510 → 1,610), then the 700 (910).
    expect(b.enforce()).toBe(2);
    expect(log).toEqual([900, 900, 700]);
    expect(b.closed).toBe(3);
  });
});
