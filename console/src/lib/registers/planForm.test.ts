import { describe, expect, it } from 'vitest';
import type { PatrolPlan } from '../api/types';
import { emptyPlan, planFieldError, planFormOf, planRequest, validatePlan } from './planForm';

const plan: PatrolPlan = {
  id: 'p1',
  name: '城东日常巡检',
  route_id: 'r1',
  shifts: [
    { starts_at: '08:00:00', hours: 12, assignee: 'u1' },
    { starts_at: '20:00:00', hours: 12, assignee: 'u2' },
  ],
  intervals: { hs: 60 },
  active_from: '2026-11-15',
  active_until: null,
  utc_offset_minutes: 480,
  created_at: '2026-11-01T00:00:00Z',
  retired_at: null,
  replaces: null,
};

describe('the patrol plan form', () => {
  it('round-trips a plan into the request the office takes', () => {
    const f = planFormOf(plan);
    expect(f.shifts[1]).toEqual({ startsAt: '20:00', hours: '12', assignee: 'u2' });
    expect(validatePlan(f)).toEqual({});
    expect(planRequest(f)).toEqual({
      name: '城东日常巡检',
      route_id: 'r1',
      shifts: plan.shifts,
      intervals: { hs: 60 },
      active_from: '2026-11-15',
      active_until: null,
      utc_offset_minutes: null,
    });
  });

  it('leaves an empty interval to the route and refuses what is not a number', () => {
    const f = { ...emptyPlan('r1'), name: 'x', shifts: [{ startsAt: '08:00', hours: '12', assignee: 'u1' }], intervals: { hs: '', ss1: ' 480 ' } };
    expect(planRequest(f).intervals).toEqual({ ss1: 480 });
    expect(validatePlan({ ...f, intervals: { hs: '1.5' } }).intervals).toBe('plan.err_interval');
    expect(validatePlan({ ...f, shifts: [{ startsAt: '08:00', hours: 'abc', assignee: 'u1' }] }).shifts).toBe('plan.err_hours');
  });

  it('asks for what is missing', () => {
    const e = validatePlan({ ...emptyPlan(''), shifts: [{ startsAt: '', hours: '12', assignee: '' }] });
    expect(e).toEqual({ name: 'common.required', routeId: 'common.required', shifts: 'plan.err_shift_missing' });
    expect(validatePlan({ ...emptyPlan('r1'), name: 'x', shifts: [] }).shifts).toBe('plan.err_shift_count');
  });

  it("puts the office's refusals at their field", () => {
    const inv = (message: string) => planFieldError({ code: 'invalid_value', message });
    expect(inv('shifts: they overlap (also across midnight)')).toEqual({ field: 'shifts', key: 'plan.err_overlap' });
    expect(inv('shifts: a shift lasts 1 to 24 hours')).toEqual({ field: 'shifts', key: 'plan.err_hours' });
    expect(inv('shifts: 1 to 6')).toEqual({ field: 'shifts', key: 'plan.err_shift_count' });
    expect(inv('name: 1 to 100 characters')).toEqual({ field: 'name', key: 'plan.err_name' });
    expect(inv('intervals: 1 to 1440 minutes')).toEqual({ field: 'intervals', key: 'plan.err_interval' });
    expect(inv('active_until: before active_from')).toEqual({ field: 'activeUntil', key: 'plan.err_season' });
    expect(planFieldError({ code: 'unknown_user', message: 'no user x' })?.field).toBe('shifts');
    expect(planFieldError({ code: 'not_found', message: 'route r not found' })?.field).toBe('routeId');
    expect(planFieldError({ code: 'not_found', message: 'patrol plan p not found' })).toBeNull();
    expect(planFieldError({ code: 'invalid_value', message: 'the plan was edited already' })).toBeNull();
  });
});
