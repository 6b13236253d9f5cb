// Categories of unauthorised heat use (违约用热/窃热), exactly heatcrew-protocol's `FindingCategory`
// (the backend refuses any other value); labels in the catalogues.
export const FINDING_CATEGORIES = [
  'unauthorized_connection',
  'tampered_seal',
  'tampered_meter',
  'valve_opened_without_permission',
  'added_radiators',
  'other',
] as const;

/** Meter, seal and valve states a finding records when the inspect step itself does not ask for them. */
export const FINDING_STATES: Record<'meter' | 'seal' | 'valve', readonly string[]> = {
  meter: ['normal', 'damaged', 'bypassed'],
  seal: ['intact', 'broken', 'missing'],
  valve: ['closed', 'opened', 'bypass'],
};

/** Default deadline for a rectification notice: seven days from today, as YYYY-MM-DD in local time. */
export function defaultDeadline(nowMs: number, days = 7): string {
  const d = new Date(nowMs + days * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** A follow-up inspection day (YYYY-MM-DD) is optional; when given, it is on or after the deadline. */
export function followUpOnOrAfter(followUp: string, deadline: string): boolean {
  return followUp === '' || (/^\d{4}-\d{2}-\d{2}$/.test(followUp) && followUp >= deadline);
}

/** A deadline must be a real date, today or later. */
export function deadlineValid(deadline: string, nowMs: number): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(deadline)) return false;
  const [y, m, d] = deadline.split('-').map(Number);
  const date = new Date(y, m - 1, d);
  if (date.getFullYear() !== y || date.getMonth() !== m - 1 || date.getDate() !== d) return false;
  const today = new Date(nowMs);
  today.setHours(0, 0, 0, 0);
  return date.getTime() >= today.getTime();
}
