// Urgent alerts as the console keeps them: the office's list (`GET /console/alerts`) merged with
// what the live stream says (`alert_raised`, `alert_acknowledged`), by alert id. Pure, so the
// merge is tested without a browser; `alerts.svelte.ts` holds the state.
import type { ConsoleAlert, LiveEvent } from '../api/types';

/** The list after a live event: a raised alert is added (or kept, if known), an acknowledged one
 *  replaced by its acknowledged version. Any other event leaves the list as it is. */
export function applyAlertEvent(list: ConsoleAlert[], e: LiveEvent): ConsoleAlert[] {
  if (e.kind !== 'alert_raised' && e.kind !== 'alert_acknowledged') return list;
  const incoming = e.alert;
  const known = list.find((a) => a.id === incoming.id);
  // An acknowledgement is final: a late `alert_raised` (a replayed push) never reopens it.
  if (known?.acknowledged && !incoming.acknowledged) return list;
  if (known) return list.map((a) => (a.id === incoming.id ? incoming : a));
  return [...list, incoming];
}

/** The office's list, keeping acknowledgements heard live that the list (fetched earlier) lacks. */
export function mergeFetched(fetched: ConsoleAlert[], current: ConsoleAlert[]): ConsoleAlert[] {
  return fetched.map((f) => {
    const c = current.find((a) => a.id === f.id);
    return !f.acknowledged && c?.acknowledged ? c : f;
  });
}

/** Open alerts, the longest waiting first. */
export function openAlerts(list: ConsoleAlert[]): ConsoleAlert[] {
  return list.filter((a) => !a.acknowledged).sort((a, b) => a.raised_at.localeCompare(b.raised_at));
}
