import { describe, expect, it } from 'vitest';
import type { JobDetail, RecordedStep, UserInfo } from '../api/types';
import { buildBoard, fmtDuration, jobState, lateFlag, slaClock } from './board';

const H = 3600_000;
const t0 = Date.UTC(2026, 0, 15, 1, 0); // 09:00 in Shanghai

function detail(over: Partial<JobDetail['job']> = {}, rest: Partial<JobDetail> = {}): JobDetail {
  return {
    job: {
      id: over.id ?? '00000000-0000-7000-8000-000000000001',
      kind: 'home_repair',
      template: { id: 'home_repair', version: 1 },
      title: '暖气不热',
      customer: null,
      site: null,
      reported_at: new Date(t0).toISOString(),
      window: null,
      assignee: null,
      street_work: false,
      checkpoints: [],
      status: 'open',
      revision: 1,
      ...over,
    },
    created_at: new Date(t0).toISOString(),
    cancel_reason: null,
    steps: [],
    photos: [],
    signatures: [],
    ratings: [],
    notices: [],
    readings: [],
    defects: [],
    other_records: [],
    closed: null,
    rejected: [],
    sla: null,
    patrol: null,
    ...rest,
  } as JobDetail;
}

function step(name: string, at: number): RecordedStep {
  const iso = new Date(at).toISOString();
  return { event_id: name, device_id: 'd', device_seq: 1, user_id: 'u', recorded_at: iso, corrected_at: iso, step: name, status: 'completed', evidence: {} };
}

function closed(resolution: string, at: number) {
  const iso = new Date(at).toISOString();
  return { event_id: 'c', device_id: 'd', device_seq: 9, user_id: 'u', recorded_at: iso, corrected_at: iso, kind: 'job_closed', payload: { resolution }, attachments: [] };
}

describe('job state', () => {
  it('follows the job from the tray to closed', () => {
    expect(jobState(detail()).state).toBe('unassigned');
    expect(jobState(detail({ assignee: 'u' })).state).toBe('assigned');
    expect(jobState(detail({ assignee: 'u' }, { steps: [step('arrive', t0)] })).state).toBe('arrived');
    const working = jobState(detail({ assignee: 'u' }, { steps: [step('arrive', t0), step('diagnose', t0)] }));
    expect(working).toEqual({ state: 'in_progress', done: 2 });
    expect(jobState(detail({}, { closed: closed('resolved', t0) })).state).toBe('closed');
    expect(jobState(detail({}, { closed: closed('follow_up_needed', t0) })).state).toBe('follow_up');
    expect(jobState(detail({ status: 'cancelled' }, { closed: closed('resolved', t0) })).state).toBe('cancelled');
  });
});

describe('the 4-hour clock (crates/rules/src/sla.rs)', () => {
  it('is on track, at risk in the last hour, then breached', () => {
    expect(slaClock(detail(), t0 + 2 * H)).toEqual({ state: 'on_track', dueAt: t0 + 4 * H });
    expect(slaClock(detail(), t0 + 3 * H).state).toBe('at_risk');
    expect(slaClock(detail(), t0 + 4 * H).state).toBe('at_risk');
    expect(slaClock(detail(), t0 + 4 * H + 1).state).toBe('breached');
  });
  it('is met or met late by the corrected time of the resolving close', () => {
    const sla = (resolvedAt: number) => ({
      reported_at: new Date(t0).toISOString(),
      deadline: new Date(t0 + 4 * H).toISOString(),
      resolved_at: new Date(resolvedAt).toISOString(),
      within_sla: null,
    });
    expect(slaClock(detail({}, { sla: sla(t0 + 4 * H) }), t0 + 9 * H).state).toBe('met');
    expect(slaClock(detail({}, { sla: sla(t0 + 4 * H + 1000) }), t0 + 9 * H).state).toBe('met_late');
  });
  it('does not run without a reported time', () => {
    expect(slaClock(detail({ reported_at: null }), t0).state).toBe('none');
  });
  it('formats the countdown as h:mm', () => {
    expect(fmtDuration(65 * 60_000)).toBe('1:05');
    expect(fmtDuration(-3 * 60_000)).toBe('0:03');
  });
});

describe('late flags', () => {
  const window = { start: new Date(t0 + H).toISOString(), end: new Date(t0 + 3 * H).toISOString() };
  it('flags an appointment that ended with nobody there', () => {
    expect(lateFlag(detail({ window }), t0 + 2 * H)).toBeNull();
    expect(lateFlag(detail({ window }), t0 + 3 * H + 1)).toBe('not_arrived');
  });
  it('flags an arrival after the window, by corrected time', () => {
    expect(lateFlag(detail({ window }, { steps: [step('arrive', t0 + 2 * H)] }), t0 + 9 * H)).toBeNull();
    expect(lateFlag(detail({ window }, { steps: [step('arrive', t0 + 3 * H + 60_000)] }), t0 + 9 * H)).toBe('arrived_late');
  });
});

describe('board', () => {
  const users: UserInfo[] = [
    { id: 'tech-b', username: 'b', display_name: '王磊', role: 'repair_technician', badge_no: '2' },
    { id: 'tech-a', username: 'a', display_name: '张伟', role: 'repair_technician', badge_no: '1' },
    { id: 'patrol', username: 'p', display_name: '陈军', role: 'patrol', badge_no: '3' },
    { id: 'disp', username: 'd', display_name: '赵敏', role: 'dispatcher', badge_no: '4' },
  ];
  const at = (h: number) => ({ start: new Date(t0 + h * H).toISOString(), end: new Date(t0 + (h + 2) * H).toISOString() });
  const day = new Date(t0).toLocaleDateString('sv'); // YYYY-MM-DD in this machine's zone

  it('puts each field user in a lane, jobs by appointment, unassigned ones in the tray', () => {
    const late = detail({ id: 'j-late', assignee: 'tech-a', window: at(5) });
    const early = detail({ id: 'j-early', assignee: 'tech-a', window: at(1) });
    const free = detail({ id: 'j-free' });
    const b = buildBoard([late, free, early], users, day);
    // Technicians before patrols; names in pinyin order (王 wang before 张 zhang).
    expect(b.lanes.map((l) => l.user.id)).toEqual(['tech-b', 'tech-a', 'patrol']);
    expect(b.lanes[1].jobs.map((d) => d.job.id)).toEqual(['j-early', 'j-late']);
    expect(b.tray.map((d) => d.job.id)).toEqual(['j-free']);
  });
  it('leaves out other days but keeps an assignee who is no longer listed', () => {
    const tomorrow = detail({ id: 'j-tomorrow', assignee: 'tech-a', window: at(24) });
    const orphan = detail({ id: 'j-orphan', assignee: 'gone' });
    const b = buildBoard([tomorrow, orphan], users, day);
    expect(b.lanes.flatMap((l) => l.jobs.map((d) => d.job.id))).toEqual(['j-orphan']);
  });
});
