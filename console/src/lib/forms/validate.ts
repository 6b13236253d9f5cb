// Form checks, the same the office applies (crates/office/src/api/*.rs), so a form refuses in the
// user's language before the API would; messages are catalogue keys. Pure: tested in validate.test.ts.
import type { CreateJobRequest, CreateOutageRequest, CreateUserRequest, Role } from '../api/types';
import type { MessageKey } from '../i18n/index.svelte';

export type Errors<F> = Partial<Record<keyof F, MessageKey>>;

export interface IntakeForm {
  name: string;
  phone: string;
  address: string;
  account: string;
  fault: string;
  /** `datetime-local` value (local time, `YYYY-MM-DDTHH:mm`). */
  reportedAt: string;
  windowStart: string;
  windowEnd: string;
  /** A user id, or '' to leave the job unassigned. */
  assignee: string;
}

/** Digits with optional +, spaces and dashes: landlines with area code, mobiles, extensions. */
export function validPhone(phone: string): boolean {
  const digits = phone.replace(/[\s-]/g, '');
  return /^\+?\d{7,15}$/.test(digits);
}

/** A `datetime-local` value as a Date (local time), or null. */
export function localDateTime(v: string): Date | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The `datetime-local` value of a time (local). */
export function toLocalInput(t: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}

/** A report time a minute ahead of this browser's clock is a clock difference, not the future. */
const CLOCK_SLACK_MS = 60_000;

export function validateIntake(f: IntakeForm, now: Date): Errors<IntakeForm> {
  const e: Errors<IntakeForm> = {};
  if (!f.name.trim()) e.name = 'common.required';
  if (!f.phone.trim()) e.phone = 'common.required';
  else if (!validPhone(f.phone)) e.phone = 'valid.phone';
  if (!f.address.trim()) e.address = 'common.required';
  if (!f.fault.trim()) e.fault = 'common.required';
  const reported = localDateTime(f.reportedAt);
  if (!reported) e.reportedAt = 'common.required';
  else if (reported.getTime() > now.getTime() + CLOCK_SLACK_MS) e.reportedAt = 'valid.future';
  const start = localDateTime(f.windowStart);
  const end = localDateTime(f.windowEnd);
  if (!!start !== !!end) e[start ? 'windowEnd' : 'windowStart'] = 'valid.window_half';
  else if (start && end && end <= start) e.windowEnd = 'valid.window';
  return e;
}

/** The request for a valid form; `id` makes a retried submit create the job once. */
export function intakeRequest(f: IntakeForm, id: string): CreateJobRequest {
  const start = localDateTime(f.windowStart);
  const end = localDateTime(f.windowEnd);
  return {
    id,
    kind: 'home_repair',
    fault: f.fault.trim(),
    customer: {
      name: f.name.trim(),
      phone: f.phone.trim(),
      address: f.address.trim(),
      account_no: f.account.trim(),
    },
    site: null,
    reported_at: localDateTime(f.reportedAt)!.toISOString(),
    window: start && end ? { start: start.toISOString(), end: end.toISOString() } : null,
    assignee: f.assignee || null,
    street_work: false,
    route_id: null,
    checkpoints: [],
  };
}

export interface UserForm {
  username: string;
  password: string;
  role: Role;
  display_name: string;
  badge_no: string;
}

/** A new password as the office checks it: at least 8 characters (code points, not bytes). */
export function validatePassword(password: string): MessageKey | undefined {
  return [...password].length < 8 ? 'valid.password' : undefined;
}

export function validateUser(f: UserForm): Errors<UserForm> {
  const e: Errors<UserForm> = {};
  const username = f.username.trim();
  if (!username) e.username = 'common.required';
  else if (/\s/.test(username)) e.username = 'valid.username';
  const password = validatePassword(f.password);
  if (password) e.password = password;
  if (!f.display_name.trim()) e.display_name = 'common.required';
  return e;
}

export function userRequest(f: UserForm): CreateUserRequest {
  return { ...f, username: f.username.trim(), display_name: f.display_name.trim(), badge_no: f.badge_no.trim() };
}

export interface OutageForm {
  area: string;
  reason: string;
  startsAt: string;
  restoreAt: string;
}

export function validateOutage(f: OutageForm): Errors<OutageForm> {
  const e: Errors<OutageForm> = {};
  if (!f.area.trim()) e.area = 'common.required';
  if (!f.reason.trim()) e.reason = 'common.required';
  const start = localDateTime(f.startsAt);
  const restore = localDateTime(f.restoreAt);
  if (!start) e.startsAt = 'common.required';
  if (!restore) e.restoreAt = 'common.required';
  else if (start && restore <= start) e.restoreAt = 'valid.restore';
  return e;
}

export function outageRequest(f: OutageForm): CreateOutageRequest {
  return {
    area: f.area.trim(),
    reason: f.reason.trim(),
    starts_at: localDateTime(f.startsAt)!.toISOString(),
    expected_restore_at: localDateTime(f.restoreAt)!.toISOString(),
  };
}

export function isValid<F>(e: Errors<F>): boolean {
  return Object.keys(e).length === 0;
}
