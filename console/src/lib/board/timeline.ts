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

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

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
