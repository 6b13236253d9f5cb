// The outbox screen groups records by job so a technician sees at a glance which visit is still
// waiting to reach the office; rejected records float up because they need a person to act. On a
// shared phone, what other users left queued is one group that does not name their jobs.
import type { Lang, OutboxEntry, OutboxState, SyncStatus } from '../backend/types';
import { errorText } from '../backend/backend';

export interface OutboxGroup {
  /** The job's id, or `others` for the records other users of this phone left queued. */
  job_id: string;
  job_title: string;
  /** Other users' records (a shared phone): one group, without their jobs' titles. */
  others: boolean;
  entries: OutboxEntry[];
  counts: Record<OutboxState, number>;
}

/** The group key of other users' records. */
export const OTHERS = 'others';

const emptyCounts = (): Record<OutboxState, number> => ({ queued: 0, uploading: 0, acknowledged: 0, rejected: 0 });

export function groupOutbox(entries: readonly OutboxEntry[]): OutboxGroup[] {
  const byJob = new Map<string, OutboxGroup>();
  for (const e of [...entries].sort((a, b) => a.device_seq - b.device_seq)) {
    const others = e.others === true;
    const key = others ? OTHERS : e.job_id;
    let g = byJob.get(key);
    if (!g) {
      g = { job_id: key, job_title: others ? '' : e.job_title, others, entries: [], counts: emptyCounts() };
      byJob.set(key, g);
    }
    g.entries.push(e);
    g.counts[e.state] += 1;
  }
  const groups = [...byJob.values()];
  const rank = (g: OutboxGroup) => (g.counts.rejected > 0 ? 0 : g.counts.uploading + g.counts.queued > 0 ? 1 : 2);
  // Stable sort keeps device_seq order inside each rank.
  return groups.sort((a, b) => rank(a) - rank(b));
}

/**
 * Bytes of this record's photos not yet at the office once the record itself is acknowledged (0
 * when there are none, or the record is not acknowledged yet): "photos pending", never "done".
 */
export function photoBytesPending(entry: Pick<OutboxEntry, 'bytes_sent' | 'bytes_total' | 'state'>): number {
  return entry.state === 'acknowledged' ? Math.max(0, entry.bytes_total - entry.bytes_sent) : 0;
}

/** 0–100 for the progress bar; an entry with nothing to send counts as complete only once acknowledged, with its photos. */
export function uploadPercent(entry: Pick<OutboxEntry, 'bytes_sent' | 'bytes_total' | 'state'>): number {
  if (entry.state === 'acknowledged' && photoBytesPending(entry) === 0) return 100;
  if (entry.bytes_total <= 0) return 0;
  return Math.min(100, Math.floor((entry.bytes_sent / entry.bytes_total) * 100));
}

export type SyncTone = 'offline' | 'syncing' | 'pending' | 'rejected' | 'synced';

/** What the always-visible header indicator says; the i18n key is `sync.<tone>`. */
export function syncTone(status: SyncStatus | null): SyncTone {
  if (!status || !status.online) return 'offline';
  if (status.rejected > 0) return 'rejected';
  if (status.syncing) return 'syncing';
  if (status.queued > 0 || (status.photos_pending ?? 0) > 0) return 'pending';
  return 'synced';
}

/** "1.2 MB", "350 KB" for upload sizes. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * What the outbox says about the last sync failure, in the person's language. Being offline or
 * the office catching up is already said by the offline note and fixes itself, so it shows
 * nothing; a failure of this device's own storage is never blamed on the office, and says what its
 * code means; a refusal keeps the office's own words as the detail for support. The i18n key is
 * `outbox.problem.<key>`.
 */
export type SyncProblem = { key: 'office_busy' | 'signed_out' | 'update_app' | 'local' | 'refused'; detail: string | null };

export function syncProblem(status: SyncStatus | null, lang: Lang): SyncProblem | null {
  const failure = status?.last_error;
  if (!failure) return null;
  if (failure.local) return { key: 'local', detail: errorText(failure.code, lang) };
  switch (failure.code) {
    case 'offline':
    case 'sequence_gap':
      return null;
    case 'office_unavailable':
      return { key: 'office_busy', detail: null };
    case 'unauthorized':
      return { key: 'signed_out', detail: null };
    case 'protocol_mismatch':
      return { key: 'update_app', detail: null };
    default:
      return { key: 'refused', detail: failure.message };
  }
}
