// SLA countdown: the backend sends the state and due_at; the UI counts down each minute and moves
// a job to "at risk" / "breached" on its own between refreshes, never back (only the backend can).
import type { Sla } from '../backend/types';
import { MINUTE_MS } from './time';

export type SlaTone = 'none' | 'on_track' | 'at_risk' | 'breached' | 'met' | 'met_late';

export interface SlaCountdown {
  tone: SlaTone;
  /** Whole minutes left (positive) or overdue (when `overdue`), rounded towards the safe side. */
  minutes: number;
  overdue: boolean;
}

/** Within this many minutes of due_at an on-track job is shown as at risk. */
export const AT_RISK_MINUTES = 60;

export function slaCountdown(sla: Sla, nowMs: number, atRiskMinutes = AT_RISK_MINUTES): SlaCountdown {
  if (sla.state === 'none') return { tone: 'none', minutes: 0, overdue: false };
  if (sla.state === 'met' || sla.state === 'met_late') {
    return { tone: sla.state, minutes: 0, overdue: false };
  }
  const leftMs = Date.parse(sla.due_at) - nowMs;
  if (leftMs <= 0) {
    // Overdue minutes are rounded down so "超时 0 分钟" never shows: a just-breached job shows 1.
    return { tone: 'breached', minutes: Math.max(1, Math.floor(-leftMs / MINUTE_MS)), overdue: true };
  }
  const minutes = Math.ceil(leftMs / MINUTE_MS);
  let tone: SlaTone = sla.state;
  if (tone === 'on_track' && minutes <= atRiskMinutes) tone = 'at_risk';
  return { tone, minutes, overdue: false };
}
