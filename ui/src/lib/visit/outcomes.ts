// Not home / no entry at the door and the customer's preferred window: what the forms check before
// anything is sent (the core checks the same: crates/rules `JobContext::check`).
import type { NoEntryKind, NoEntryInput, RescheduleInput, RequestChannel } from '../backend/args';
import type { AttachmentRef, Window } from '../backend/types';

/** A local date (`YYYY-MM-DD`) and two local times (`HH:MM`) as a window; `null` when left empty,
 *  `'invalid'` when incomplete or ending before it starts. */
export function preferredWindow(date: string, from: string, to: string): Window | null | 'invalid' {
  if (!date && !from && !to) return null;
  const at = (time: string) => (/^\d{4}-\d{2}-\d{2}$/.test(date) && /^\d{2}:\d{2}$/.test(time) ? new Date(`${date}T${time}:00`) : null);
  const start = at(from);
  const end = at(to);
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start) return 'invalid';
  return { start: start.toISOString(), end: end.toISOString() };
}

export type DoorProblem = 'reason' | 'door_photo' | 'witness' | 'window';

export interface DoorDraft {
  outcome: NoEntryKind;
  reason: string;
  doorPhoto: AttachmentRef | null;
  witnessName: string;
  witnessPhone: string;
  date: string;
  from: string;
  to: string;
  note: string;
}

/** What is still missing at the door (empty: the record can be saved). */
export function doorProblems(d: DoorDraft): DoorProblem[] {
  const out: DoorProblem[] = [];
  if (d.reason.trim().length < 2) out.push('reason');
  if (!d.doorPhoto) out.push('door_photo');
  if (!d.witnessName.trim() && d.witnessPhone.trim()) out.push('witness');
  if (preferredWindow(d.date, d.from, d.to) === 'invalid') out.push('window');
  return out;
}

export function rescheduleInput(channel: RequestChannel, window: Window, note: string): RescheduleInput {
  return { channel, preferred: window, note: note.trim() };
}

/** The command's argument from a draft with no problems. */
export function noEntryInput(d: DoorDraft): NoEntryInput {
  const window = preferredWindow(d.date, d.from, d.to);
  if (!d.doorPhoto || window === 'invalid') throw new Error('doorProblems first');
  return {
    outcome: d.outcome,
    reason: d.reason.trim(),
    door_photo: d.doorPhoto,
    witness: d.witnessName.trim() ? { name: d.witnessName.trim(), phone: d.witnessPhone.trim() } : null,
    reschedule: window ? rescheduleInput('door', window, d.note) : null,
  };
}
