// The fake backend's opinion form, corrections and company details (fake.ts uses these), for Vitest
// and the dev-only preview page only. They imitate heatcrew-rules (`opinion`, `correction`,
// `phrases`): the form is a copy of crates/rules/data/opinion_form.v1.json (opinion.test.ts fails
// when it drifts), a correction names a record of the job with a reason and never the rating.
import opinionForm from './fake-templates/opinion_form.v1.json';
import { err } from './fake-util';
import type { CorrectableRecord, CorrectionInput, CorrectionView, EvidenceSpec, Lang, Localized, OpinionInput, OpinionQuestion, RatingView, Reading, Replacement, StepEvidence } from './types';

export const OPINION_FORM = opinionForm as OpinionQuestion[];

/** The demo company as the demo office sets it (crates/office/src/demo.rs). */
export const FAKE_COMPANY = { name: '滨河热力公司', hotline: '0531-96069' };
const FAKE_PERSON = { name: '张伟', badge: 'RL-0428' };

/** A standard phrase with the company's and the technician's details, as the core fills it. */
export function fillPhrase(p: Localized | null): Localized | null {
  if (!p) return null;
  const fill = (s: string, window: string) =>
    s.replace(/\{company\}/g, FAKE_COMPANY.name).replace(/\{name\}/g, FAKE_PERSON.name).replace(/\{badge\}/g, FAKE_PERSON.badge).replace(/\{hotline\}/g, FAKE_COMPANY.hotline).replace(/\{window\}/g, window);
  return { zh: fill(p.zh, '约定的时间'), en: fill(p.en, 'the agreed time') };
}

/** A step's evidence with the contact card's hotline from the company profile. */
export function fillEvidence(specs: EvidenceSpec[]): EvidenceSpec[] {
  return specs.map((e) => (e.type === 'contact_card' ? { ...e, phone: e.phone.replace('{hotline}', FAKE_COMPANY.hotline) } : e));
}

/** Questions of the form with no (valid) answer. */
export function unanswered(answers: Partial<Record<string, string>>): OpinionQuestion[] {
  return OPINION_FORM.filter((q) => !q.options.some((o) => o.value === answers[q.key]));
}

/** What the fake keeps for corrections: each job's correctable records and corrections. */
export class FakeRecords {
  private records = new Map<string, CorrectableRecord[]>();
  private fixes = new Map<string, CorrectionView[]>();
  private ratingEvents = new Set<string>();

  stepDone(jobId: string, step: string, evidence: StepEvidence, eventId: string, at: string) {
    if (!Object.keys(evidence.text).length && !evidence.readings.length) return;
    this.keep(jobId, { event_id: eventId, kind: 'step_completed', step, checkpoint: null, finding_id: null, recorded_at: at }, { text: { ...evidence.text } as Record<string, string>, readings: [...evidence.readings] });
  }
  found(jobId: string, findingId: string, description: string, eventId: string, at: string) {
    this.keep(jobId, { event_id: eventId, kind: 'finding_recorded', step: null, checkpoint: null, finding_id: findingId, recorded_at: at }, { text: {}, readings: [], description });
  }
  read(jobId: string, checkpoint: string, readings: Reading[], eventId: string, at: string) {
    this.keep(jobId, { event_id: eventId, kind: 'reading_recorded', step: null, checkpoint, finding_id: null, recorded_at: at }, { text: {}, readings });
  }
  private keep(jobId: string, head: Omit<CorrectableRecord, 'original' | 'current' | 'corrections'>, values: Replacement) {
    const list = this.records.get(jobId) ?? [];
    list.push({ ...head, original: values, current: structuredClone(values), corrections: [] });
    this.records.set(jobId, list);
  }

  /** The form, checked as the rules check it; throws `{code, message}`. */
  opinion(rated: RatingView | null, o: OpinionInput, lang: Lang): RatingView {
    if (rated) throw err('rating_locked', '评价已提交，不能修改', 'The rating is locked', lang);
    if (!Number.isInteger(o.stars) || o.stars < 1 || o.stars > 5) throw err('rating_out_of_range', '请选择1到5星', 'Choose 1 to 5 stars', lang);
    const missing = unanswered(o.answers);
    if (missing.length) throw err('evidence_missing', `缺少：${missing.map((q) => q.text.zh).join('、')}`, `Missing: ${missing.map((q) => q.text.en).join(', ')}`, lang);
    return { stars: o.stars, comment: o.comment, answers: { ...o.answers } };
  }
  rated(eventId: string) {
    this.ratingEvents.add(eventId);
  }

  list(jobId: string): CorrectableRecord[] {
    return structuredClone(this.records.get(jobId) ?? []);
  }
  corrections(jobId: string): CorrectionView[] {
    return structuredClone(this.fixes.get(jobId) ?? []);
  }

  /** A correction's checks, then the record's current values; throws `{code, message}`. */
  check(jobId: string, c: CorrectionInput, lang: Lang): CorrectableRecord {
    if (this.ratingEvents.has(c.corrects)) throw err('rating_locked', '客户评价不能更正', 'The rating cannot be corrected', lang);
    const rec = this.records.get(jobId)?.find((r) => r.event_id === c.corrects);
    if (!rec || !c.reason.trim()) throw err('bad_correction', '更正记录必须指明原记录并填写原因。', 'A correction must name a record and a reason.', lang);
    return rec;
  }
  correct(jobId: string, c: CorrectionInput, eventId: string, at: string, lang: Lang): void {
    const rec = this.check(jobId, c, lang);
    const view: CorrectionView = { event_id: eventId, corrects: c.corrects, reason: c.reason, at, replacement: c.replacement ?? null };
    rec.corrections.push(view);
    Object.assign(rec.current.text ?? {}, c.replacement?.text ?? {});
    if (c.replacement?.description !== undefined) rec.current.description = c.replacement.description;
    for (const r of c.replacement?.readings ?? []) {
      const i = (rec.current.readings ?? []).findIndex((x) => x.key === r.key);
      if (i >= 0 && rec.current.readings) rec.current.readings[i] = r;
    }
    this.fixes.set(jobId, [...(this.fixes.get(jobId) ?? []), view]);
  }
}
