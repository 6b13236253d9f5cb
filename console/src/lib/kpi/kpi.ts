// The KPI dashboard's pure parts: the periods it offers (today, this week from Monday, this month,
// custom) as local dates, how a figure reads (a share as a percentage, a mean as stars) and the query
// it sends. The figures themselves are the office's (GET /api/v1/kpi): nothing is recomputed here.
import type { Figure } from '../api/types';

export type Preset = 'day' | 'week' | 'month' | 'custom';
export type Group = 'none' | 'crew' | 'person' | 'kind';

/** `YYYY-MM-DD` of a local date. */
export function ymd(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The first and last local day of a preset period containing `today`. */
export function period(preset: Exclude<Preset, 'custom'>, today: Date): { from: string; to: string } {
  const d = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  if (preset === 'day') return { from: ymd(d), to: ymd(d) };
  if (preset === 'week') {
    const monday = new Date(d);
    monday.setDate(d.getDate() - ((d.getDay() + 6) % 7));
    const sunday = new Date(monday);
    sunday.setDate(monday.getDate() + 6);
    return { from: ymd(monday), to: ymd(sunday) };
  }
  const first = new Date(d.getFullYear(), d.getMonth(), 1);
  const last = new Date(d.getFullYear(), d.getMonth() + 1, 0);
  return { from: ymd(first), to: ymd(last) };
}

/** The query string of a KPI request (the browser's UTC offset: the days are the office's days). */
export function kpiQuery(p: {
  from: string;
  to: string;
  group?: Group;
  kind?: string;
  key?: string;
  groupKey?: string;
  offsetMinutes?: number;
}): string {
  const q = new URLSearchParams({ from: p.from, to: p.to });
  q.set('utc_offset_minutes', String(p.offsetMinutes ?? -new Date().getTimezoneOffset()));
  if (p.group && p.group !== 'none') q.set('group', p.group);
  if (p.kind) q.set('kind', p.kind);
  if (p.key) q.set('key', p.key);
  // A drill-down from a group's row narrows to that group.
  if (p.groupKey && p.group === 'crew') q.set('crew', p.groupKey);
  if (p.groupKey && p.group === 'person') q.set('person', p.groupKey);
  if (p.groupKey && p.group === 'kind') q.set('kind', p.groupKey);
  return q.toString();
}

/** A figure's value as shown: `98.5%`, `4.6★`, or `—` when nothing was measured. */
export function fmtValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (unit === 'stars') return `${value.toFixed(2)}★`;
  const pct = value * 100;
  return `${Number.isInteger(pct) ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/** `met`, `missed`, or `none` (no value or no target). */
export function standing(f: Figure): 'met' | 'missed' | 'none' {
  if (f.met === null || f.met === undefined) return 'none';
  return f.met ? 'met' : 'missed';
}

/** A day series of one figure for the trend chart: percentages (or stars), null where A was 0. */
export function series(days: { date: string; figures: Figure[] }[], key: string): (number | null)[] {
  return days.map((d) => {
    const f = d.figures.find((x) => x.key === key);
    if (!f || f.value === null || f.value === undefined) return null;
    return f.unit === 'stars' ? f.value : Math.round(f.value * 1000) / 10;
  });
}

/** The register page a company-wide figure opens (its complaints, notices or patrol rounds), or
 * `null` for a job figure (which drills down to its jobs). */
export function registerOf(key: string): string | null {
  if (key === 'complaint_rate' || key === 'complaints_in_time' || key === 'reports_in_time') return '/complaints';
  if (key === 'notices_complied') return '/notices';
  if (key.startsWith('patrol_')) return '/patrols';
  return null;
}
