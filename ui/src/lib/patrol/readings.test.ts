import { describe, expect, it } from 'vitest';
import { nextDue, normalRange, parseReading, readingFlag, roundLabel, sortCheckpoints } from './readings';
import type { CheckpointView, ReadingSpec } from '../backend/types';

const pressure: ReadingSpec = { key: 'supply_pressure', label_zh: '供水压力', label_en: 'Supply pressure', unit: 'MPa', normal_min: 0.4, normal_max: 0.6 };

describe('parseReading', () => {
  it('accepts numbers typed with a dot or a comma', () => {
    expect(parseReading('0.55')).toBe(0.55);
    expect(parseReading(' 0,5 ')).toBe(0.5);
    expect(parseReading('-3')).toBe(-3);
  });
  it('refuses empty or non-numeric input instead of saving 0', () => {
    expect(parseReading('')).toBeNull();
    expect(parseReading('abc')).toBeNull();
    expect(parseReading('1.2.3')).toBeNull();
  });
});

describe('readingFlag', () => {
  it('flags values outside the normal range, inclusive bounds are normal', () => {
    expect(readingFlag(pressure, 0.4)).toBe('ok');
    expect(readingFlag(pressure, 0.6)).toBe('ok');
    expect(readingFlag(pressure, 0.39)).toBe('low');
    expect(readingFlag(pressure, 0.8)).toBe('high');
    expect(readingFlag({ ...pressure, normal_min: null, normal_max: null }, 99)).toBe('ok');
  });
  it('describes the range', () => {
    expect(normalRange(pressure)).toBe('0.4–0.6 MPa');
    expect(normalRange({ ...pressure, normal_max: null })).toBe('≥ 0.4 MPa');
    expect(normalRange({ ...pressure, normal_min: null, normal_max: null })).toBe('');
  });
});

describe('checkpoints', () => {
  const cp = (id: string, state: CheckpointView['state'], due: string): CheckpointView => ({
    id, name: id, kind: 'substation', state, opens_at: due, next_due_at: due, last_visit_at: null, missed_rounds: 0, readings: [], has_code: false, confirmed_at: null, confirmed_by: null,
  });
  const list = [
    cp('done', 'done', '2026-11-27T09:00:00Z'),
    cp('due-late', 'due', '2026-11-27T12:00:00Z'),
    cp('late', 'late', '2026-11-27T07:00:00Z'),
    cp('due-soon', 'due', '2026-11-27T08:30:00Z'),
    cp('missed', 'missed', '2026-11-27T10:00:00Z'),
  ];
  it('orders missed and late rounds first so they are not overlooked', () => {
    expect(sortCheckpoints(list).map((c) => c.id)).toEqual(['missed', 'late', 'due-soon', 'due-late', 'done']);
  });
  it('finds the next due checkpoint', () => {
    expect(nextDue(list)?.id).toBe('late');
    expect(nextDue([])).toBeNull();
  });
});

describe('roundLabel', () => {
  const now = Date.parse('2026-11-27T10:05:00Z');
  const round = (state: CheckpointView['state'], opens: string, ends: string) => ({ state, opens_at: `2026-11-27T${opens}:00Z`, next_due_at: `2026-11-27T${ends}:00Z` });
  it('names a round over but in its grace, so the patrol knows a visit now counts late', () => {
    expect(roundLabel(round('late', '09:00', '10:00'), now)).toBe('round_grace');
  });
  it('tells a visited checkpoint, or a shift not started, which round comes next', () => {
    expect(roundLabel(round('done', '11:00', '12:00'), now)).toBe('round_next');
    expect(roundLabel(round('due', '12:00', '23:59'), now)).toBe('round_next');
  });
  it('otherwise the running round', () => {
    expect(roundLabel(round('due', '10:00', '11:00'), now)).toBe('round_now');
    expect(roundLabel(round('missed', '10:00', '11:00'), now)).toBe('round_now');
  });
});
