import { afterEach, describe, expect, it, vi } from 'vitest';
import { MinuteClock } from './clock.svelte';

describe('MinuteClock', () => {
  afterEach(() => vi.useRealTimers());

  it('follows the backend clock and ticks on each minute boundary', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-27T08:00:30Z'));
    const clock = new MinuteClock();
    clock.sync('2026-11-27T08:10:30Z'); // the device is 10 minutes behind the office
    clock.start();
    expect(clock.now).toBe(Date.parse('2026-11-27T08:10:30Z'));
    vi.advanceTimersByTime(29_000);
    expect(clock.now, 'no tick before the minute turns').toBe(Date.parse('2026-11-27T08:10:30Z'));
    vi.advanceTimersByTime(2_000);
    expect(new Date(clock.now).toISOString().slice(0, 16)).toBe('2026-11-27T08:11');
    clock.stop();
  });
});
