import { describe, expect, it } from 'vitest';
import { latestOnly } from './latest';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('latestOnly', () => {
  it('drops a slow earlier answer that lands after the newer one', async () => {
    const l = latestOnly();
    const slow = deferred<string>();
    const fast = deferred<string>();
    const first = l.run(() => slow.promise);
    const second = l.run(() => fast.promise);
    fast.resolve('this month');
    slow.resolve('today');
    expect(await second).toEqual({ value: 'this month' });
    expect(await first).toBeUndefined();
  });

  it('keeps a lone answer', async () => {
    const l = latestOnly();
    expect(await l.run(async () => 42)).toEqual({ value: 42 });
  });
});
