import { describe, expect, it } from 'vitest';
import type { Figure } from '../api/types';
import { fmtValue, kpiQuery, period, registerOf, series, standing } from './kpi';

const fig = (over: Partial<Figure>): Figure => ({
  key: 'timely_repair',
  numerator: 0,
  denominator: 0,
  value: null,
  target: null,
  unit: 'ratio',
  met: null,
  at_most: false,
  ...over,
});

describe('KPI periods', () => {
  // Wednesday 2026-12-02.
  const wed = new Date(2026, 11, 2, 15, 30);
  it('a day, a week from Monday, a month', () => {
    expect(period('day', wed)).toEqual({ from: '2026-12-02', to: '2026-12-02' });
    expect(period('week', wed)).toEqual({ from: '2026-11-30', to: '2026-12-06' });
    expect(period('month', wed)).toEqual({ from: '2026-12-01', to: '2026-12-31' });
  });
  it('a Sunday belongs to the week that began on Monday', () => {
    expect(period('week', new Date(2026, 11, 6))).toEqual({ from: '2026-11-30', to: '2026-12-06' });
  });
  it('February of a leap year', () => {
    expect(period('month', new Date(2028, 1, 10))).toEqual({ from: '2028-02-01', to: '2028-02-29' });
  });
});

describe('KPI query', () => {
  it('carries the period, the offset, the grouping and a drill-down group', () => {
    const q = new URLSearchParams(
      kpiQuery({ from: '2026-12-01', to: '2026-12-31', group: 'crew', key: 'closure', groupKey: 'c1', offsetMinutes: 480 }),
    );
    expect(q.get('utc_offset_minutes')).toBe('480');
    expect(q.get('group')).toBe('crew');
    expect(q.get('crew')).toBe('c1');
    expect(q.get('key')).toBe('closure');
    expect(new URLSearchParams(kpiQuery({ from: 'a', to: 'b', group: 'none' })).has('group')).toBe(false);
  });
});

describe('KPI figures as read', () => {
  it('shares as percentages, means as stars, nothing measured as a dash', () => {
    expect(fmtValue(0.985, 'ratio')).toBe('98.5%');
    expect(fmtValue(1, 'ratio')).toBe('100%');
    expect(fmtValue(4.567, 'stars')).toBe('4.57★');
    expect(fmtValue(null, 'ratio')).toBe('—');
  });
  it('met or missed only with a value and a target', () => {
    expect(standing(fig({ met: true }))).toBe('met');
    expect(standing(fig({ met: false }))).toBe('missed');
    expect(standing(fig({ met: null }))).toBe('none');
  });
  it('a trend series has gaps where nothing was measured', () => {
    const days = [
      { date: '2026-12-01', figures: [fig({ value: 0.5 })] },
      { date: '2026-12-02', figures: [fig({ value: null })] },
    ];
    expect(series(days, 'timely_repair')).toEqual([50, null]);
  });
});

describe('registerOf', () => {
  it('opens the register behind a company-wide figure and leaves job figures to the drill-down', () => {
    expect(registerOf('complaint_rate')).toBe('/complaints');
    expect(registerOf('reports_in_time')).toBe('/complaints');
    expect(registerOf('notices_complied')).toBe('/notices');
    expect(registerOf('patrol_missed')).toBe('/patrols');
    expect(registerOf('timely_repair')).toBeNull();
    expect(registerOf('satisfaction_mean')).toBeNull();
  });
});
