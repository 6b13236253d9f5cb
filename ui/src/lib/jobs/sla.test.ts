import { describe, expect, it } from 'vitest';
import { slaCountdown } from './sla';
import { clockOffset, formatDuration, formatWindow } from './time';
import { sortJobs } from './jobs';
import type { JobSummary } from '../backend/types';

const now = Date.parse('2026-11-27T08:00:00Z');
const due = (minutes: number) => new Date(now + minutes * 60_000).toISOString();

describe('slaCountdown', () => {
  it('counts whole minutes left, rounding up so the last seconds still show 1 minute', () => {
    expect(slaCountdown({ state: 'on_track', due_at: due(200) }, now)).toEqual({ tone: 'on_track', minutes: 200, overdue: false });
    expect(slaCountdown({ state: 'on_track', due_at: due(0.5) }, now).minutes).toBe(1);
  });
  it('turns an on-track job at risk inside the last hour without waiting for the backend', () => {
    expect(slaCountdown({ state: 'on_track', due_at: due(60) }, now).tone).toBe('at_risk');
    expect(slaCountdown({ state: 'on_track', due_at: due(61) }, now).tone).toBe('on_track');
  });
  it('keeps the backend state when it is already worse than the clock says', () => {
    expect(slaCountdown({ state: 'at_risk', due_at: due(200) }, now).tone).toBe('at_risk');
  });
  it('shows a passed due time as breached with the overdue minutes, never "0 minutes"', () => {
    expect(slaCountdown({ state: 'on_track', due_at: due(-25) }, now)).toEqual({ tone: 'breached', minutes: 25, overdue: true });
    expect(slaCountdown({ state: 'at_risk', due_at: due(0) }, now)).toEqual({ tone: 'breached', minutes: 1, overdue: true });
  });
  it('has nothing to count for none/met/met_late', () => {
    expect(slaCountdown({ state: 'none' }, now).tone).toBe('none');
    expect(slaCountdown({ state: 'met_late', due_at: due(-5), resolved_at: due(-1) }, now).tone).toBe('met_late');
  });
});

describe('formatDuration', () => {
  it('speaks Chinese by default and English on request', () => {
    expect(formatDuration(192, 'zh-CN')).toBe('3小时12分');
    expect(formatDuration(192, 'en')).toBe('3 h 12 min');
    expect(formatDuration(45, 'zh-CN')).toBe('45分钟');
    expect(formatDuration(120, 'en')).toBe('2 h');
    expect(formatDuration(1500, 'zh-CN')).toBe('1天1小时');
  });
  it('never shows negative time', () => {
    expect(formatDuration(-3, 'en')).toBe('0 min');
  });
});

describe('clock and windows', () => {
  it('derives the offset between the device clock and the backend clock', () => {
    expect(clockOffset('2026-11-27T08:05:00Z', now)).toBe(5 * 60_000);
    expect(clockOffset('not a time', now)).toBe(0);
  });
  it('formats an appointment window in local time, with the date only when not today', () => {
    const local = (d: number, h: number, m = 0) => new Date(2026, 10, d, h, m).toISOString();
    const today = new Date(2026, 10, 27, 7, 0).getTime();
    expect(formatWindow({ start: local(27, 9), end: local(27, 11, 30) }, today, 'zh-CN')).toBe('09:00–11:30');
    expect(formatWindow({ start: local(28, 9), end: local(28, 11) }, today, 'zh-CN')).toBe('11月28日 09:00–11:00');
    expect(formatWindow({ start: local(28, 9), end: local(28, 11) }, today, 'en')).toBe('11/28 09:00–11:00');
    expect(formatWindow({ start: local(27, 12), end: local(28, 0) }, today, 'zh-CN')).toBe('12:00–24:00');
    expect(formatWindow({ start: local(27, 20), end: local(28, 8) }, today, 'zh-CN')).toBe('20:00–11月28日 08:00');
  });
});

describe('sortJobs', () => {
  const job = (id: string, over: Partial<JobSummary>): JobSummary => ({
    id, kind: 'home_repair', title: id, customer: null, site: null, window: null, reported_at: null,
    sla: { state: 'none' }, arrival: { state: 'not_arrived' }, steps_done: 0, steps_total: 1, closed: false,
    cancelled: false, revoked: false, pending_records: 0, urgent: false, photos_pending: 0,
    photo_bytes_pending: 0, office_acks: [], ...over,
  });
  it('puts urgent jobs first, then the soonest due, and closed jobs last', () => {
    const sorted = sortJobs([
      job('closed', { closed: true, urgent: true }),
      job('later', { sla: { state: 'on_track', due_at: due(300) } }),
      job('sooner', { sla: { state: 'at_risk', due_at: due(30) } }),
      job('urgent', { urgent: true, sla: { state: 'on_track', due_at: due(400) } }),
    ]);
    expect(sorted.map((j) => j.id)).toEqual(['urgent', 'sooner', 'later', 'closed']);
  });
});
