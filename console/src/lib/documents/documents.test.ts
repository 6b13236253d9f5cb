import { describe, expect, it } from 'vitest';
import { currentMonth, emptyFilter, feedbackQuery, nextDay } from './documents';

describe('feedback query', () => {
  it('leaves out empty filters and asks for a page', () => {
    expect(feedbackQuery(emptyFilter())).toBe('limit=50');
  });

  it('turns days into China Standard Time bounds, the last day included', () => {
    const q = new URLSearchParams(feedbackQuery({ ...emptyFilter(), from: '2026-11-01', to: '2026-11-30' }));
    expect(q.get('from')).toBe('2026-11-01T00:00:00+08:00');
    expect(q.get('to')).toBe('2026-12-01T00:00:00+08:00');
  });

  it('encodes a plus sign so the office does not read a space', () => {
    const s = feedbackQuery({ ...emptyFilter(), from: '2026-11-01' });
    expect(s).toContain('%2B08%3A00');
  });

  it('passes customer, result, ratings and the cursor; ignores a half-typed day', () => {
    const q = new URLSearchParams(
      feedbackQuery(
        { ...emptyFilter(), customer: ' 王秀 ', result: 'no_entry', rating_max: '3', from: '2026-1' },
        'c1',
        20,
      ),
    );
    expect(q.get('customer')).toBe('王秀');
    expect(q.get('result')).toBe('no_entry');
    expect(q.get('rating_max')).toBe('3');
    expect(q.get('after')).toBe('c1');
    expect(q.get('limit')).toBe('20');
    expect(q.has('from')).toBe(false);
  });

  it('rolls days over month and year ends', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
  });

  it('takes the month in China Standard Time', () => {
    expect(currentMonth(new Date('2026-11-30T17:00:00Z'))).toBe('2026-12');
    expect(currentMonth(new Date('2026-11-30T15:59:00Z'))).toBe('2026-11');
  });
});
