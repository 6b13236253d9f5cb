// Time helpers for the job list. The device clock may be wrong, so the UI corrects it by the offset
// to the backend's `Today.now` (which the core keeps against the office clock) before counting down.
import type { Lang, Window } from '../backend/types';

export const MINUTE_MS = 60_000;

/** Milliseconds to add to the device clock to get the backend's idea of now. */
export function clockOffset(backendNow: string, deviceNowMs: number): number {
  const server = Date.parse(backendNow);
  return Number.isNaN(server) ? 0 : server - deviceNowMs;
}

/** "3小时12分" / "3 h 12 min" from a whole number of minutes (rounded up: 30 s left is still "1 分钟"). */
export function formatDuration(totalMinutes: number, lang: Lang): string {
  const m = Math.max(0, Math.round(totalMinutes));
  const days = Math.floor(m / 1440);
  const hours = Math.floor((m % 1440) / 60);
  const mins = m % 60;
  if (lang === 'en') {
    if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
    if (hours > 0) return mins > 0 ? `${hours} h ${mins} min` : `${hours} h`;
    return `${mins} min`;
  }
  if (days > 0) return hours > 0 ? `${days}天${hours}小时` : `${days}天`;
  if (hours > 0) return mins > 0 ? `${hours}小时${mins}分` : `${hours}小时`;
  return `${mins}分钟`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local "HH:MM". */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Local date (and time) of an instant; the date only when it is not today. */
export function formatWhen(iso: string, nowMs: number, lang: Lang): string {
  const d = new Date(iso);
  if (sameLocalDay(d, new Date(nowMs))) return formatClock(iso);
  const date = lang === 'en' ? `${d.getMonth() + 1}/${d.getDate()}` : `${d.getMonth() + 1}月${d.getDate()}日`;
  return `${date} ${formatClock(iso)}`;
}

/** "09:00–11:00", with the date in front when the window is not today. */
export function formatWindow(w: Window, nowMs: number, lang: Lang): string {
  const start = new Date(w.start);
  const end = new Date(w.end);
  // A window ending at the next midnight (a substation's 12:00 round) reads 12:00–24:00.
  const endsAtMidnight = formatClock(w.end) === '00:00' && sameLocalDay(start, new Date(end.getTime() - 1));
  const range = sameLocalDay(start, end) || endsAtMidnight
    ? `${formatClock(w.start)}–${endsAtMidnight ? '24:00' : formatClock(w.end)}`
    : `${formatClock(w.start)}–${formatWhen(w.end, start.getTime(), lang)}`;
  if (sameLocalDay(start, new Date(nowMs))) return range;
  const date = lang === 'en' ? `${start.getMonth() + 1}/${start.getDate()}` : `${start.getMonth() + 1}月${start.getDate()}日`;
  return `${date} ${range}`;
}
