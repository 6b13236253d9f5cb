// The dispatch board, as pure functions of what the office computes (`GET /api/v1/console/board`):
// the office folds each job's ledger with the field rules into its state, step k of n, 4-hour clock
// and late flag; here the clocks only tick on between two answers, and the day is laid out in lanes.
import type { BoardJob, BoardState, Role, UserInfo } from '../api/types';

export type { BoardState };

/** The same constant as heatcrew_rules::sla::AT_RISK_BEFORE. */
export const AT_RISK_BEFORE_MS = 60 * 60 * 1000;

export const FIELD_ROLES: readonly Role[] = ['repair_technician', 'inspector', 'patrol'];

export type SlaClock =
  | { state: 'none' }
  | { state: 'on_track' | 'at_risk' | 'breached'; dueAt: number }
  | { state: 'met' | 'met_late'; dueAt: number; resolvedAt: number };

/** The 4-hour clock at `now` (ms since the epoch): the office's verdict, ticked on locally. */
export function slaClock(b: BoardJob, now: number): SlaClock {
  const s = b.sla;
  switch (s.state) {
    case 'none':
      return { state: 'none' };
    case 'met':
    case 'met_late':
      return { state: s.state, dueAt: Date.parse(s.due_at), resolvedAt: Date.parse(s.resolved_at) };
    default: {
      const dueAt = Date.parse(s.due_at);
      if (now > dueAt) return { state: 'breached', dueAt };
      if (dueAt - now <= AT_RISK_BEFORE_MS) return { state: 'at_risk', dueAt };
      return { state: 'on_track', dueAt };
    }
  }
}

export type LateFlag = 'not_arrived' | 'arrived_late' | null;

/** The office's late flag; an appointment that ends while the board is open flags at once. */
export function lateFlag(b: BoardJob, now: number): LateFlag {
  if (b.late) return b.late;
  const w = b.job.window;
  const waiting = b.state === 'assigned' || b.state === 'unassigned';
  return w && waiting && now > Date.parse(w.end) ? 'not_arrived' : null;
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

/** A `YYYY-MM-DD` day from the address, or null when absent or not a calendar day. */
export function dayParam(v: string | null | undefined): string | null {
  if (!v || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return null;
  const [y, m, d] = v.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d ? v : null;
}

/** This browser's UTC offset on `day` (minutes east), for the office to bound the day. */
export function utcOffsetMinutes(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  return -new Date(y, (m ?? 1) - 1, d ?? 1, 12).getTimezoneOffset();
}

/** Order within a lane: by appointment, then by report time, then by id (stable). */
export function byAppointment(a: BoardJob, b: BoardJob): number {
  const key = (d: BoardJob) => Date.parse(d.job.window?.start ?? d.job.reported_at ?? d.created_at);
  return key(a) - key(b) || a.job.id.localeCompare(b.job.id);
}

export interface Lane {
  user: UserInfo;
  jobs: BoardJob[];
}

export interface Board {
  lanes: Lane[];
  /** Unassigned jobs of the day, open unassigned ones with no date at all, and jobs whose customer
   *  waits for a new appointment (not home at the door, or asked): also in their lane. */
  tray: BoardJob[];
}

/** The lanes of a day: one per field user and per assignee no longer listed; technicians first, names in pinyin order. */
export function buildBoard(jobs: Iterable<BoardJob>, fieldUsers: UserInfo[]): Board {
  const lanes = new Map<string, Lane>();
  for (const u of fieldUsers) lanes.set(u.id, { user: u, jobs: [] });
  const tray: BoardJob[] = [];
  for (const b of jobs) {
    const assignee = b.job.assignee;
    if (!assignee || b.reschedule_requested) tray.push(b);
    if (!assignee) continue;
    let lane = lanes.get(assignee);
    if (!lane) {
      // Deactivated since: still shown, by the name the office gave.
      const gone: UserInfo = {
        id: assignee,
        username: '',
        display_name: b.assignee_name ?? assignee.slice(0, 8),
        role: 'repair_technician',
        badge_no: b.assignee_badge ?? '',
      };
      lane = { user: gone, jobs: [] };
      lanes.set(assignee, lane);
    }
    lane.jobs.push(b);
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
