// The complaints tracker's logic without the DOM: countdowns against the office's clock, the intake
// form's checks (the office's bounds, so a refusal is shown before sending) and its request.
import type { Channel, ComplaintKind, CreateComplaintRequest, Customer } from '../api/types';
import type { MessageKey } from '../i18n/zh-CN';

export const CHANNELS: Channel[] = ['phone', 'hotline', 'visit', 'letter', 'online', 'other'];
export const KINDS: ComplaintKind[] = ['complaint', 'report'];
/** The office's bounds (crates/office/src/complaints/input.rs). */
export const MAX_NAME = 40;
export const MAX_PHONE = 30;
export const MIN_PHONE_DIGITS = 5;
export const MAX_SUBJECT = 100;
export const MAX_TEXT = 4000;
export const MAX_NOTE = 1000;
export const MAX_DEPARTMENT = 40;

/** The office's clock as last heard, carried forward by this browser's clock. */
export interface OfficeClock {
  /** The office's `now` (ms since the epoch). */
  office: number;
  /** This browser's `Date.now()` when that answer arrived. */
  local: number;
}

export function officeNow(clock: OfficeClock, localNow: number): number {
  return clock.office + (localNow - clock.local);
}

export interface Countdown {
  overdue: boolean;
  days: number;
  hours: number;
  minutes: number;
}

/** Time left until `dueIso` at `now` (ms), or how long past it, in whole minutes. */
export function countdown(dueIso: string, now: number): Countdown {
  const diff = Date.parse(dueIso) - now;
  const overdue = diff <= 0;
  const mins = Math.floor(Math.abs(diff) / 60_000);
  return { overdue, days: Math.floor(mins / 1440), hours: Math.floor((mins % 1440) / 60), minutes: mins % 60 };
}

/** Under a day left (and not yet overdue): shown as urgent. */
export function isUrgent(c: Countdown): boolean {
  return !c.overdue && c.days === 0;
}

export interface ComplaintForm {
  kind: ComplaintKind;
  channel: Channel;
  callerName: string;
  callerPhone: string;
  subject: string;
  text: string;
  /** `datetime-local` value; empty: now. */
  receivedAt: string;
  jobId: string;
  customer: Customer | null;
}

export type FormErrors = Partial<Record<'callerName' | 'callerPhone' | 'subject' | 'text' | 'receivedAt', MessageKey>>;

const chars = (s: string) => [...s.trim()].length;

/** The phone as the office checks it: digits, spaces, + - ( ); at least 5 digits. */
export function phoneProblem(phone: string, required: boolean): MessageKey | undefined {
  const p = phone.trim();
  if (!p) return required ? 'complaints.err_phone_required' : undefined;
  if (chars(p) > MAX_PHONE || !/^[0-9 +\-()]+$/.test(p)) return 'complaints.err_phone';
  if (p.replace(/\D/g, '').length < MIN_PHONE_DIGITS) return 'complaints.err_phone';
  return undefined;
}

/** Message keys per field (empty: the form may be sent). `now` for the received time. */
export function validateComplaint(f: ComplaintForm, now: Date): FormErrors {
  const e: FormErrors = {};
  if (chars(f.callerName) > MAX_NAME) e.callerName = 'complaints.err_too_long';
  const phone = phoneProblem(f.callerPhone, f.kind === 'complaint');
  if (phone) e.callerPhone = phone;
  if (!f.subject.trim()) e.subject = 'common.required';
  else if (chars(f.subject) > MAX_SUBJECT) e.subject = 'complaints.err_too_long';
  if (!f.text.trim()) e.text = 'common.required';
  else if (chars(f.text) > MAX_TEXT) e.text = 'complaints.err_too_long';
  if (f.receivedAt) {
    const t = new Date(f.receivedAt).getTime();
    if (Number.isNaN(t)) e.receivedAt = 'complaints.err_received';
    else if (t > now.getTime() + 5 * 60_000) e.receivedAt = 'complaints.err_received_future';
    else if (t < now.getTime() - 30 * 86_400_000) e.receivedAt = 'complaints.err_received_old';
  }
  return e;
}

export function complaintRequest(f: ComplaintForm, id: string): CreateComplaintRequest {
  return {
    id,
    kind: f.kind,
    channel: f.channel,
    caller_name: f.callerName.trim(),
    caller_phone: f.callerPhone.trim(),
    subject: f.subject.trim(),
    text: f.text.trim(),
    job_id: f.jobId || null,
    customer: f.customer,
    received_at: f.receivedAt ? new Date(f.receivedAt).toISOString() : null,
  };
}

export interface ListFilter {
  state: 'open' | 'overdue' | 'answered' | 'all';
  kind: '' | ComplaintKind;
  /** A user id, or empty for anyone. */
  owner: string;
}

export function listQuery(f: ListFilter): string {
  const q = new URLSearchParams({ state: f.state });
  if (f.kind) q.set('kind', f.kind);
  if (f.owner) q.set('owner', f.owner);
  return q.toString();
}
