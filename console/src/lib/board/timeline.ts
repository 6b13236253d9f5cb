// A job's read-back as one timeline: every record the office holds for it, in the device's order
// (device_seq per device; corrected time across devices).
import type { JobDetail } from '../api/types';

export interface TimelineItem {
  event_id: string;
  device_seq: number;
  user_id: string;
  recorded_at: string;
  corrected_at: string;
  /** `step`, `photo`, `signature`, `rating`, `closed`, `rejected`, or the record kind. */
  type: string;
  label: string;
  detail: string;
}

/** Bookkeeping fields of attachments and positions, not what a reader wants in a summary. */
const SKIP = new Set(['sha256', 'mime', 'bytes', 'width', 'height', 'taken_at', 'gps', 'position', 'accuracy_m']);

/** The words and numbers a record carries, e.g. `进门前已敲门 · 供水 62 °C`, at most 160 characters. */
export function summary(v: unknown): string {
  const parts: string[] = [];
  const walk = (x: unknown, key: string) => {
    if (x === null || x === undefined || SKIP.has(key)) return;
    if (typeof x === 'string') {
      if (x.trim()) parts.push(x.trim());
    } else if (typeof x === 'number' || typeof x === 'boolean') {
      parts.push(key ? `${key} ${x}` : String(x));
    } else if (Array.isArray(x)) {
      x.forEach((y) => walk(y, key));
    } else if (typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) walk(y, k);
    }
  };
  walk(v, '');
  const s = parts.join(' · ');
  return s.length > 160 ? `${s.slice(0, 159)}…` : s;
}

const text = summary;

export function timeline(d: JobDetail): TimelineItem[] {
  const items: TimelineItem[] = [];
  const base = (r: { event_id: string; device_seq: number; user_id: string; recorded_at: string; corrected_at: string }) => ({
    event_id: r.event_id,
    device_seq: r.device_seq,
    user_id: r.user_id,
    recorded_at: r.recorded_at,
    corrected_at: r.corrected_at,
  });
  for (const s of d.steps)
    items.push({ ...base(s), type: s.status === 'skipped' ? 'step_skipped' : 'step', label: s.step, detail: s.skip_reason ?? text(s.evidence) });
  for (const p of d.photos) items.push({ ...base(p), type: 'photo', label: p.step, detail: p.caption });
  for (const s of d.signatures) items.push({ ...base(s), type: 'signature', label: s.step, detail: s.signer_name || text(s.declined) });
  for (const r of [...d.ratings, ...d.notices, ...d.readings, ...d.defects, ...d.other_records])
    items.push({ ...base(r), type: r.kind, label: r.kind, detail: text(r.payload) });
  if (d.closed) items.push({ ...base(d.closed), type: 'closed', label: 'job_closed', detail: text(d.closed.payload) });
  for (const r of d.rejected) items.push({ ...base(r), type: 'rejected', label: r.kind, detail: `${r.code}: ${r.reason}` });
  return items.sort((a, b) => Date.parse(a.corrected_at) - Date.parse(b.corrected_at) || a.device_seq - b.device_seq);
}
