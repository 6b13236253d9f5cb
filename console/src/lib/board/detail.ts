// A job page's state from its read-back (`GET /jobs/{id}`), until the page reads the office's own
// verdict: the same rules as the board's (crates/office/src/board.rs).
import type { JobDetail } from '../api/types';
import { AT_RISK_BEFORE_MS, type LateFlag, type SlaClock } from './board';

export type BoardState =
  | 'unassigned'
  | 'assigned'
  | 'arrived'
  | 'in_progress'
  | 'closed'
  | 'follow_up'
  | 'cancelled';

/** The same constant as heatcrew_rules::sla::RESOLUTION_TARGET. */
export const RESOLUTION_TARGET_MS = 4 * 60 * 60 * 1000;

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

