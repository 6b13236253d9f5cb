// The feedback list's filters as the office's query, and handing a fetched file to the browser.
// Dates are the company's (China Standard Time): a day runs from 00:00 to the next 00:00 UTC+8.

export type FeedbackFilter = {
  /** YYYY-MM-DD, closed on or after this day. */
  from: string;
  /** YYYY-MM-DD, closed on or before this day. */
  to: string;
  staff: string;
  customer: string;
  result: '' | 'resolved' | 'follow_up_needed' | 'no_entry';
  rating_min: string;
  rating_max: string;
};

export const emptyFilter = (): FeedbackFilter => ({
  from: '',
  to: '',
  staff: '',
  customer: '',
  result: '',
  rating_min: '',
  rating_max: '',
});

/** The start of the day after `day` (YYYY-MM-DD), as YYYY-MM-DD. */
export function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The office's query for `f` (empty fields left out), with paging when `after` is given. */
export function feedbackQuery(f: FeedbackFilter, after: string | null = null, limit = 50): string {
  const q = new URLSearchParams();
  if (DAY.test(f.from)) q.set('from', `${f.from}T00:00:00+08:00`);
  if (DAY.test(f.to)) q.set('to', `${nextDay(f.to)}T00:00:00+08:00`);
  if (f.staff) q.set('staff', f.staff);
  if (f.customer.trim()) q.set('customer', f.customer.trim());
  if (f.result) q.set('result', f.result);
  if (f.rating_min) q.set('rating_min', f.rating_min);
  if (f.rating_max) q.set('rating_max', f.rating_max);
  if (after) q.set('after', after);
  if (limit) q.set('limit', String(limit));
  return q.toString();
}

/** This month in China Standard Time, YYYY-MM. */
export function currentMonth(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 7);
}

/** Hand `blob` to the browser as a download named `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
