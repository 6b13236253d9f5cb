// The customer's opinion form (维修意见征询表) and corrections, as the screens need them: which
// questions are still open, how an answer reads, what a correction changes. The rules themselves
// (complete form, locked once given, a correction needs a reason) are the core's; these only let
// the screen say so before the backend does.
import type { CorrectableRecord, Localized, OpinionQuestion, Reading, Replacement } from '../backend/types';
import { parseReading } from '../patrol/readings';

export type Answers = Record<string, string>;

/** Questions without a valid answer yet. */
export function unanswered(form: OpinionQuestion[], answers: Answers): OpinionQuestion[] {
  return form.filter((q) => !q.options.some((o) => o.value === answers[q.key]));
}

/** The chosen option of a question, if any. */
export function chosen(form: OpinionQuestion[], key: string, answers: Partial<Record<string, string>>): { label: Localized; concern: boolean } | null {
  const q = form.find((x) => x.key === key);
  const o = q?.options.find((x) => x.value === answers[key]);
  return o ? { label: o.label, concern: o.concern } : null;
}

/** Whether customer mode may submit: stars chosen and every question answered. */
export function canSubmit(form: OpinionQuestion[], answers: Answers, stars: number): boolean {
  return stars >= 1 && stars <= 5 && unanswered(form, answers).length === 0;
}

/** The editable draft of a correction: the record's current values as strings. */
export interface CorrectionDraft {
  text: Record<string, string>;
  readings: Record<string, string>;
  /** A finding's description. */
  description: string;
}

export function correctionDraft(record: CorrectableRecord): CorrectionDraft {
  const readings: Record<string, string> = {};
  for (const r of record.current.readings ?? []) readings[r.key] = String(r.value);
  return { text: { ...(record.current.text ?? {}) } as Record<string, string>, readings, description: record.current.description ?? '' };
}

/** Only what the technician changed, as the correction's `replacement`; `null` if nothing changed
 *  (or a reading does not parse: the screen says which). */
export function changedValues(record: CorrectableRecord, draft: CorrectionDraft): Replacement | null {
  const text: Record<string, string> = {};
  for (const [k, v] of Object.entries(draft.text)) if ((record.current.text ?? {})[k] !== v) text[k] = v;
  const readings: Reading[] = [];
  for (const r of record.current.readings ?? []) {
    const value = parseReading(draft.readings[r.key] ?? '');
    if (value === null) return null;
    if (value !== r.value) readings.push({ ...r, value });
  }
  const description = record.current.description !== undefined && draft.description !== record.current.description ? draft.description : undefined;
  if (!Object.keys(text).length && !readings.length && description === undefined) return null;
  return description === undefined ? { text, readings } : { text, readings, description };
}
