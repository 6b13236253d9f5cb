// The dispatch board, as pure functions of what the office API returns: a job's state from its
// read-back, the 4-hour clock (the same rule as crates/rules/src/sla.rs: due 4 h after the report,
// at risk in the last hour), late-arrival flags, and the lanes of the day.
import type { JobDetail, Role, UserInfo } from '../api/types';

export type BoardState =
  | 'unassigned'
  | 'assigned'
  | 'arrived'
  | 'in_progress'
  | 'closed'
  | 'follow_up'
  | 'cancelled';

/** The same constants as heatcrew_rules::sla (RESOLUTION_TARGET, AT_RISK_BEFORE). */
export const RESOLUTION_TARGET_MS = 4 * 60 * 60 * 1000;
export const AT_RISK_BEFORE_MS = 60 * 60 * 1000;

export const FIELD_ROLES: readonly Role[] = ['repair_technician', 'inspector', 'patrol'];

export interface JobState {
  state: BoardState;
  /** Checklist steps recorded (completed or skipped). */
  done: number;
}

export function jobState(d: JobDetail): JobState {
  const done = d.steps.length;
  if (d.job.status === 'cancelled') return { state: 'cancelled', done };
  if (d.closed) {
    const resolution = (d.closed.payload as { resolution?: string } | null)?.resolution;
    return { state: resolution === 'follow_up_needed' ? 'follow_up' : 'closed', done };
  }
  if (d.steps.some((s) => s.step !== 'arrive')) return { state: 'in_progress', done };
  if (d.steps.length > 0) return { state: 'arrived', done };
  return { state: d.job.assignee ? 'assigned' : 'unassigned', done };
}

export type SlaClock =
  | { state: 'none' }
  | { state: 'on_track' | 'at_risk' | 'breached'; dueAt: number }
  | { state: 'met' | 'met_late'; dueAt: number; resolvedAt: number };

/** The 4-hour resolution clock at `now` (ms since the epoch). */
export function slaClock(d: JobDetail, now: number): SlaClock {
  if (!d.job.reported_at) return { state: 'none' };
  const dueAt = Date.parse(d.job.reported_at) + RESOLUTION_TARGET_MS;
  const resolved = d.sla?.resolved_at ? Date.parse(d.sla.resolved_at) : null;
  if (resolved !== null) return { state: resolved <= dueAt ? 'met' : 'met_late', dueAt, resolvedAt: resolved };
  if (d.job.status === 'cancelled') return { state: 'none' };
  if (now > dueAt) return { state: 'breached', dueAt };
  if (dueAt - now <= AT_RISK_BEFORE_MS) return { state: 'at_risk', dueAt };
  return { state: 'on_track', dueAt };
}

export type LateFlag = 'not_arrived' | 'arrived_late' | null;

/** Arrival against the appointment window: arrived after it ended, or it ended with nobody there. */
export function lateFlag(d: JobDetail, now: number): LateFlag {
  const w = d.job.window;
  if (!w || d.job.status === 'cancelled') return null;
  const end = Date.parse(w.end);
  const arrive = d.steps.find((s) => s.step === 'arrive');
  if (arrive) return Date.parse(arrive.corrected_at) > end ? 'arrived_late' : null;
  if (d.closed) return null;
  return now > end ? 'not_arrived' : null;
}

/** `h:mm` of a duration, e.g. 1:05. */
export function fmtDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(Math.abs(ms) / 60000));
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A local calendar day, `YYYY-MM-DD`. */
export function localDay(t: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}`;
}

/** The day a job belongs on: its appointment, else when it was reported; null for neither. */
export function jobDay(d: JobDetail): string | null {
  const at = d.job.window?.start ?? d.job.reported_at;
  return at ? localDay(new Date(at)) : null;
}

/** Order within a lane: by appointment, then by report time, then by id (stable). */
export function byAppointment(a: JobDetail, b: JobDetail): number {
  const key = (d: JobDetail) => Date.parse(d.job.window?.start ?? d.job.reported_at ?? d.created_at);
  return key(a) - key(b) || a.job.id.localeCompare(b.job.id);
}

export interface Lane {
  user: UserInfo;
  jobs: JobDetail[];
}

export interface Board {
  lanes: Lane[];
  /** Unassigned jobs of the day, and open unassigned ones with no date at all. */
  tray: JobDetail[];
}

/** The board of `day`: one lane per field user (and per assignee no longer listed), the tray. */
export function buildBoard(details: Iterable<JobDetail>, users: UserInfo[], day: string): Board {
  const lanes = new Map<string, Lane>();
  for (const u of users.filter((u) => FIELD_ROLES.includes(u.role))) lanes.set(u.id, { user: u, jobs: [] });
  const tray: JobDetail[] = [];
  for (const d of details) {
    const jd = jobDay(d);
    if (jd !== day && !(jd === null && d.job.status === 'open')) continue;
    const assignee = d.job.assignee;
    if (!assignee) {
      tray.push(d);
      continue;
    }
    let lane = lanes.get(assignee);
    if (!lane) {
      const unknown: UserInfo = { id: assignee, username: '', display_name: assignee.slice(0, 8), role: 'repair_technician', badge_no: '' };
      lane = { user: unknown, jobs: [] };
      lanes.set(assignee, lane);
    }
    lane.jobs.push(d);
  }
  for (const lane of lanes.values()) lane.jobs.sort(byAppointment);
  tray.sort(byAppointment);
  const roleOrder = (r: Role) => FIELD_ROLES.indexOf(r);
  const sorted = [...lanes.values()].sort(
    (a, b) =>
      roleOrder(a.user.role) - roleOrder(b.user.role) ||
      a.user.display_name.localeCompare(b.user.display_name, 'zh-CN'),
  );
  return { lanes: sorted, tray };
}
