import { describe, expect, it } from 'vitest';
import { cellText, gridQuery, noticeQuery } from './registers';

const say = (k: string, n: number) => `${k}:${n}`;

describe('noticeQuery', () => {
  it('leaves out the defaults and keeps the rest', () => {
    expect(noticeQuery('all', '')).toBe('');
    expect(noticeQuery('overdue', '')).toBe('?filter=overdue');
    expect(noticeQuery('all', 'complied')).toBe('?status=complied');
    expect(noticeQuery('due_this_week', 'open')).toBe('?filter=due_this_week&status=open');
  });
});

describe('cellText', () => {
  it('says every count in words, worst first, so colour is never the only sign', () => {
    expect(cellText({ on_time: 18, late: 1, missed: 5, pending: 0 }, 1, say)).toBe('missed:5 · late:1 · on_time:18 · flagged:1');
  });
  it('is empty when nothing was due', () => {
    expect(cellText({ on_time: 0, late: 0, missed: 0, pending: 0 }, 0, say)).toBe('');
  });
});

describe('gridQuery', () => {
  it('clamps the days to what the office accepts', () => {
    expect(gridQuery('p', '2026-12-01', 99, false)).toBe('?plan=p&from=2026-12-01&days=31');
    expect(gridQuery('p', '', 0, false)).toBe('?plan=p&days=7');
    expect(gridQuery('p', '2026-12-01', 7, true)).toBe('?plan=p&from=2026-12-01&resolution=hour');
  });
});
