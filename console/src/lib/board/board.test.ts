import { describe, expect, it } from 'vitest';
import type { BoardJob, UserInfo } from '../api/types';
import { buildBoard, fmtDuration, lateFlag, slaClock, utcOffsetMinutes } from './board';

const H = 3600_000;
const t0 = Date.UTC(2026, 0, 15, 1, 0); // 09:00 in Shanghai
const iso = (t: number) => new Date(t).toISOString();

function entry(over: Partial<BoardJob['job']> = {}, rest: Partial<BoardJob> = {}): BoardJob {
  return {
    job: {
      id: over.id ?? '00000000-0000-7000-8000-000000000001',
      kind: 'home_repair',
      template: { id: 'home_repair', version: 1 },
      title: '暖气不热',
      customer: null,
      site: null,
      reported_at: iso(t0),
      window: null,
      assignee: null,
      street_work: false,
      checkpoints: [],
      status: 'open',
      revision: 1,
      ...over,
    },
    created_at: iso(t0),
    state: over.assignee ? 'assigned' : 'unassigned',
    steps_done: 0,
    steps_total: 12,
    next_step: null,
    sla: { state: 'on_track', due_at: iso(t0 + 4 * H) },
    late: null,
    arrived_at: null,
    assignee_name: null,
    assignee_badge: null,
    field_created: false,
    awaiting_acceptance: false,
    reschedule_requested: false,
    preferred_window: null,
    non_conforming: false,
    ...rest,
  };
}

describe('the 4-hour clock ticks on from the office verdict (crates/rules/src/sla.rs)', () => {
  it('is on track, at risk in the last hour, then breached', () => {
    expect(slaClock(entry(), t0 + 2 * H)).toEqual({ state: 'on_track', dueAt: t0 + 4 * H });
    expect(slaClock(entry(), t0 + 3 * H).state).toBe('at_risk');
    expect(slaClock(entry(), t0 + 4 * H).state).toBe('at_risk');
    expect(slaClock(entry(), t0 + 4 * H + 1).state).toBe('breached');
  });
  it('keeps met and met late as the office decided', () => {
    const met = entry({}, { sla: { state: 'met', due_at: iso(t0 + 4 * H), resolved_at: iso(t0 + H) } });
    expect(slaClock(met, t0 + 9 * H)).toEqual({ state: 'met', dueAt: t0 + 4 * H, resolvedAt: t0 + H });
    const late = entry({}, { sla: { state: 'met_late', due_at: iso(t0 + 4 * H), resolved_at: iso(t0 + 5 * H) } });
    expect(slaClock(late, t0 + 9 * H).state).toBe('met_late');
  });
  it('does not run without a reported time', () => {
    expect(slaClock(entry({}, { sla: { state: 'none' } }), t0).state).toBe('none');
  });
  it('formats the countdown as h:mm', () => {
    expect(fmtDuration(65 * 60_000)).toBe('1:05');
    expect(fmtDuration(-3 * 60_000)).toBe('0:03');
  });
});

describe('late flags', () => {
  const window = { start: iso(t0 + H), end: iso(t0 + 3 * H) };
  it('flags an appointment that ends while the board is open', () => {
    expect(lateFlag(entry({ window, assignee: 'u' }), t0 + 2 * H)).toBeNull();
    expect(lateFlag(entry({ window, assignee: 'u' }), t0 + 3 * H + 1)).toBe('not_arrived');
    expect(lateFlag(entry({ window, assignee: 'u' }, { state: 'arrived' }), t0 + 9 * H)).toBeNull();
  });
  it("keeps the office's flag", () => {
    expect(lateFlag(entry({ window }, { state: 'arrived', late: 'arrived_late' }), t0)).toBe('arrived_late');
  });
});

describe('board', () => {
  const users: UserInfo[] = [
    { id: 'tech-b', username: 'b', display_name: '王磊', role: 'repair_technician', badge_no: '2' },
    { id: 'tech-a', username: 'a', display_name: '张伟', role: 'repair_technician', badge_no: '1' },
    { id: 'patrol', username: 'p', display_name: '陈军', role: 'patrol', badge_no: '3' },
  ];
  const at = (h: number) => ({ start: iso(t0 + h * H), end: iso(t0 + (h + 2) * H) });

  it('puts a job whose customer waits for a new appointment in the tray as well as its lane', () => {
    const users: UserInfo[] = [{ id: 'u-1', username: 'zhangwei', display_name: '张伟', role: 'repair_technician', badge_no: 'RL-1' }];
    const notHome = entry({ id: 'j-door', assignee: 'u-1' }, { state: 'no_entry', reschedule_requested: true });
    const done = entry({ id: 'j-done', assignee: 'u-1' }, { state: 'closed' });
    const b = buildBoard([notHome, done], users);
    expect(b.tray.map((d) => d.job.id), 'the office must give the customer a new time').toEqual(['j-door']);
    expect(b.lanes[0].jobs.map((d) => d.job.id).sort(), 'and the technician still sees what they did').toEqual(['j-done', 'j-door'].sort());
  });

  it('puts each field user in a lane, jobs by appointment, unassigned ones in the tray', () => {
    const late = entry({ id: 'j-late', assignee: 'tech-a', window: at(5) });
    const early = entry({ id: 'j-early', assignee: 'tech-a', window: at(1) });
    const free = entry({ id: 'j-free' });
    const b = buildBoard([late, free, early], users);
    // Technicians before patrols; names in pinyin order (王 wang before 张 zhang).
    expect(b.lanes.map((l) => l.user.id)).toEqual(['tech-b', 'tech-a', 'patrol']);
    expect(b.lanes[1].jobs.map((d) => d.job.id)).toEqual(['j-early', 'j-late']);
    expect(b.tray.map((d) => d.job.id)).toEqual(['j-free']);
  });
  it('keeps an assignee who is no longer listed, by the name the office gave', () => {
    const orphan = entry({ id: 'j-orphan', assignee: 'gone' }, { assignee_name: '刘洋' });
    const b = buildBoard([orphan], users);
    const lane = b.lanes.find((l) => l.user.id === 'gone');
    expect(lane?.user.display_name).toBe('刘洋');
    expect(lane?.jobs.map((d) => d.job.id)).toEqual(['j-orphan']);
  });
  it("asks for the day in this browser's offset", () => {
    expect(utcOffsetMinutes('2026-01-15')).toBe(-new Date(2026, 0, 15, 12).getTimezoneOffset());
  });
});

describe('the day in the address', () => {
  it('takes a calendar day and nothing else', async () => {
    const { dayParam } = await import('./board');
    expect(dayParam('2026-12-02')).toBe('2026-12-02');
    expect(dayParam('2024-02-29')).toBe('2024-02-29');
    for (const bad of [null, undefined, '', '2026-02-30', '2026-13-01', '2026-1-2', '2026-12-02x', "2026-12-02' or 1", '２０２６-12-02']) {
      expect(dayParam(bad)).toBeNull();
    }
  });
});
