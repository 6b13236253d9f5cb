// The patrol plan form (巡检计划): its fields, the checks a form can make without the office (what is
// missing or not a number), the request, and the office's refusals put at the field they are about.
// The rules themselves (shift length, overlap across midnight, interval range, season order) are the
// office's (crates/office/src/patrols/mod.rs, `NewPlan::validate`): each of its messages starts with
// its field (`shifts: …`), which `planFieldError` reads. Pure: tested in planForm.test.ts.
import type { NewPlan, PatrolPlan } from '../api/types';
import type { MessageKey } from '../i18n/index.svelte';

export interface ShiftRow {
  /** `HH:MM` (a time input's value). */
  startsAt: string;
  /** As typed (a number input may hand over a number). */
  hours: string | number;
  /** A user id. */
  assignee: string;
}

export interface PlanForm {
  name: string;
  routeId: string;
  shifts: ShiftRow[];
  /** Checkpoint id → minutes as typed; '' keeps the route's interval. */
  intervals: Record<string, string | number | null>;
  /** `YYYY-MM-DD` or ''. */
  activeFrom: string;
  activeUntil: string;
}

export type PlanField = 'name' | 'routeId' | 'shifts' | 'intervals' | 'activeFrom' | 'activeUntil';
export type PlanErrors = Partial<Record<PlanField, MessageKey>>;

/** The office's limit (`patrols::MAX_SHIFTS`). */
export const MAX_SHIFTS = 6;

export function emptyPlan(routeId: string): PlanForm {
  return { name: '', routeId, shifts: [{ startsAt: '08:00', hours: '12', assignee: '' }], intervals: {}, activeFrom: '', activeUntil: '' };
}

/** The form of an existing plan, to edit it. */
export function planFormOf(p: PatrolPlan): PlanForm {
  const intervals: Record<string, string> = {};
  for (const [cp, m] of Object.entries(p.intervals)) if (m !== undefined) intervals[cp] = String(m);
  return {
    name: p.name,
    routeId: p.route_id,
    shifts: p.shifts.map((s) => ({ startsAt: s.starts_at.slice(0, 5), hours: String(s.hours), assignee: s.assignee })),
    intervals,
    activeFrom: p.active_from ?? '',
    activeUntil: p.active_until ?? '',
  };
}

const wholeNumber = (v: string | number | null) => /^\s*\d+\s*$/.test(String(v));
const typed = (v: string | number | null | undefined) => String(v ?? '').trim();

/** What is missing or not a number; the office judges the rest and `planFieldError` shows it. */
export function validatePlan(f: PlanForm): PlanErrors {
  const e: PlanErrors = {};
  if (!f.name.trim()) e.name = 'common.required';
  if (!f.routeId) e.routeId = 'common.required';
  if (!f.shifts.length) e.shifts = 'plan.err_shift_count';
  else if (f.shifts.some((s) => !/^\d\d:\d\d$/.test(s.startsAt) || !s.assignee)) e.shifts = 'plan.err_shift_missing';
  else if (f.shifts.some((s) => !wholeNumber(s.hours))) e.shifts = 'plan.err_hours';
  if (Object.values(f.intervals).some((v) => typed(v) !== '' && !wholeNumber(v))) e.intervals = 'plan.err_interval';
  return e;
}

/** The request of a checked form (China's time zone, as the office's default). */
export function planRequest(f: PlanForm): NewPlan {
  const intervals: Record<string, number> = {};
  for (const [cp, v] of Object.entries(f.intervals)) if (typed(v) !== '') intervals[cp] = Number(typed(v));
  return {
    name: f.name.trim(),
    route_id: f.routeId,
    shifts: f.shifts.map((s) => ({ starts_at: `${s.startsAt}:00`, hours: Number(typed(s.hours)), assignee: s.assignee })),
    intervals,
    active_from: f.activeFrom || null,
    active_until: f.activeUntil || null,
    utc_offset_minutes: null,
  };
}

/** The office's refusal of a plan at the field it names, in the user's language; `null`: not a
 * field's (the page's banner shows it). */
export function planFieldError(err: { code: string; message: string }): { field: PlanField; key: MessageKey } | null {
  const m = err.message;
  if (err.code === 'unknown_user') return { field: 'shifts', key: 'plan.err_unknown_user' };
  if (err.code === 'not_found' && m.startsWith('route ')) return { field: 'routeId', key: 'plan.err_route' };
  if (err.code !== 'invalid_value') return null;
  if (m.startsWith('name:')) return { field: 'name', key: 'plan.err_name' };
  if (m.startsWith('shifts: they overlap')) return { field: 'shifts', key: 'plan.err_overlap' };
  if (m.startsWith('shifts: a shift lasts')) return { field: 'shifts', key: 'plan.err_hours' };
  if (m.startsWith('shifts:')) return { field: 'shifts', key: 'plan.err_shift_count' };
  if (m.startsWith('intervals:')) return { field: 'intervals', key: 'plan.err_interval' };
  if (m.startsWith('active_until:')) return { field: 'activeUntil', key: 'plan.err_season' };
  return null;
}
