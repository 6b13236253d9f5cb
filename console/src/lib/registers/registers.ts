// Pure helpers of the notice register, patrol grid and defects pages: queries and the words a cell
// shows (never colour alone). Kept out of the views so vitest reads them without a browser.
import type { CellState, CheckpointFigures, NoticeFilter, NoticeStatus } from '../api/types';

export const NOTICE_FILTERS: NoticeFilter[] = ['all', 'open', 'overdue', 'due_this_week'];
export const NOTICE_STATUSES: NoticeStatus[] = ['open', 'awaiting_reinspection', 'complied', 'not_complied', 'new_notice'];

/** `?filter=…&status=…` for the register, leaving out what is the default. */
export function noticeQuery(filter: NoticeFilter, status: NoticeStatus | ''): string {
  const q = new URLSearchParams();
  if (filter !== 'all') q.set('filter', filter);
  if (status) q.set('status', status);
  const s = q.toString();
  return s ? `?${s}` : '';
}

type Say = (key: 'on_time' | 'late' | 'missed' | 'pending' | 'flagged', n: number) => string;

/** What a grid cell says: each non-zero count in words, worst first; a dash when nothing was due. */
export function cellText(f: CheckpointFigures, flagged: number, say: Say): string {
  const parts: string[] = [];
  if (f.missed) parts.push(say('missed', f.missed));
  if (f.late) parts.push(say('late', f.late));
  if (f.on_time) parts.push(say('on_time', f.on_time));
  if (f.pending) parts.push(say('pending', f.pending));
  if (flagged) parts.push(say('flagged', flagged));
  return parts.join(' · ');
}

/** The CSS class of a cell's state. */
export function cellClass(s: CellState): string {
  return `cell-${s}`;
}

/** `?plan=…&from=…&days=…&resolution=…` for the grid. */
export function gridQuery(plan: string, from: string, days: number, hourly: boolean): string {
  const q = new URLSearchParams({ plan });
  if (from) q.set('from', from);
  if (hourly) q.set('resolution', 'hour');
  else q.set('days', String(Math.min(31, Math.max(1, Math.trunc(days) || 7))));
  return `?${q.toString()}`;
}
