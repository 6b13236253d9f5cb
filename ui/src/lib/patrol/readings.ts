// Patrol readings: typed on a phone keypad (a comma may come in as the decimal sign), checked against
// the normal range so an abnormal value is flagged before it is saved.
import type { CheckpointView, ReadingSpec } from '../backend/types';

/** A number from what was typed, or null when it is empty or not a number. */
export function parseReading(raw: string): number | null {
  const s = raw.trim().replace(',', '.').replace('，', '.');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

export type ReadingFlag = 'ok' | 'low' | 'high';

export function readingFlag(spec: ReadingSpec, value: number): ReadingFlag {
  if (spec.normal_min !== null && value < spec.normal_min) return 'low';
  if (spec.normal_max !== null && value > spec.normal_max) return 'high';
  return 'ok';
}

/** "0.4–0.6 MPa", "≥ 60 ℃", or "" when there is no range. */
export function normalRange(spec: ReadingSpec): string {
  const { normal_min: lo, normal_max: hi, unit } = spec;
  if (lo !== null && hi !== null) return `${lo}–${hi} ${unit}`;
  if (lo !== null) return `≥ ${lo} ${unit}`;
  if (hi !== null) return `≤ ${hi} ${unit}`;
  return '';
}

const stateRank: Record<CheckpointView['state'], number> = { missed: 0, late: 1, due: 2, done: 3 };

/** Missed and late checkpoints first, then due ones by their next due time, done ones last. */
export function sortCheckpoints(checkpoints: readonly CheckpointView[]): CheckpointView[] {
  return [...checkpoints].sort(
    (a, b) => stateRank[a.state] - stateRank[b.state] || Date.parse(a.next_due_at) - Date.parse(b.next_due_at),
  );
}

/** The earliest next due time over all checkpoints, or null. */
export function nextDue(checkpoints: readonly CheckpointView[]): CheckpointView | null {
  let best: CheckpointView | null = null;
  for (const c of checkpoints) if (!best || Date.parse(c.next_due_at) < Date.parse(best.next_due_at)) best = c;
  return best;
}

export type RoundLabel = 'round_now' | 'round_next' | 'round_grace';

/**
 * How to name the round a checkpoint shows (its `opens_at`–`next_due_at`): a round over whose grace
 * is running (a visit now counts late), one not open yet, or the one running now.
 */
export function roundLabel(cp: Pick<CheckpointView, 'state' | 'opens_at' | 'next_due_at'>, nowMs: number): RoundLabel {
  if (cp.state === 'late' && Date.parse(cp.next_due_at) <= nowMs) return 'round_grace';
  return Date.parse(cp.opens_at) > nowMs ? 'round_next' : 'round_now';
}
