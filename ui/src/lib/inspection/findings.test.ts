import { describe, expect, it } from 'vitest';
import { deadlineValid, defaultDeadline } from './findings';

describe('rectification notice deadline', () => {
  const now = new Date(2026, 10, 27, 15, 30).getTime();
  it('defaults to a week from today', () => {
    expect(defaultDeadline(now)).toBe('2026-12-04');
  });
  it('accepts today or later, refuses past or impossible dates', () => {
    expect(deadlineValid('2026-11-27', now)).toBe(true);
    expect(deadlineValid('2026-12-31', now)).toBe(true);
    expect(deadlineValid('2026-11-26', now)).toBe(false);
    expect(deadlineValid('2026-02-30', now)).toBe(false);
    expect(deadlineValid('', now)).toBe(false);
  });
});
