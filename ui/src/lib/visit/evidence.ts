// What a step needs before it can be confirmed, checked on the device so a gloved technician sees
// the problem before the backend does (the backend checks again and answers `evidence_missing`).
import type { EvidenceSpec, JobView, Position, Reading, StepEvidence, StepView } from '../backend/types';
import { parseReading } from '../patrol/readings';
import { photoCount } from '../photos/processing';

export interface EvidenceDraft {
  text: Record<string, string>;
  states: Record<string, string>;
  /** Raw strings as typed, keyed by ReadingSpec.key. */
  readings: Record<string, string>;
}

/** An i18n key plus values: the UI translates it. */
export interface Problem {
  key: string;
  values?: Record<string, string | number>;
}

export function emptyDraft(step: StepView): EvidenceDraft {
  const draft: EvidenceDraft = { text: {}, states: {}, readings: {} };
  for (const spec of step.evidence) {
    if (spec.type === 'text') draft.text[spec.key] = '';
    if (spec.type === 'choice') draft.states[spec.key] = '';
    if (spec.type === 'readings') for (const r of spec.specs) draft.readings[r.key] = '';
  }
  return draft;
}

export type EvidenceState = Pick<JobView, 'signature' | 'rating' | 'notices'> & Partial<Pick<JobView, 'processing_photos'>>;

export function validateStep(step: StepView, draft: EvidenceDraft, job: EvidenceState): Problem[] {
  const problems: Problem[] = [];
  for (const spec of step.evidence) problems.push(...validateSpec(spec, step, draft, job));
  return problems;
}

function validateSpec(
  spec: EvidenceSpec,
  step: StepView,
  draft: EvidenceDraft,
  job: EvidenceState,
): Problem[] {
  switch (spec.type) {
    case 'photos': {
      // Photos still being processed count: the record waits for them, not the technician.
      const have = photoCount(job, step);
      return have < spec.min ? [{ key: 'evidence.need_photos', values: { min: spec.min, have } }] : [];
    }
    case 'text':
      return spec.required && !(draft.text[spec.key] ?? '').trim()
        ? [{ key: 'evidence.need_text', values: { field: spec.key } }]
        : [];
    case 'choice':
      return spec.required && !draft.states[spec.key] ? [{ key: 'evidence.need_choice', values: { field: spec.key } }] : [];
    case 'readings':
      return spec.specs.flatMap((r) =>
        parseReading(draft.readings[r.key] ?? '') === null ? [{ key: 'evidence.need_reading', values: { field: r.key } }] : [],
      );
    case 'signature':
      return job.signature ? [] : [{ key: 'evidence.need_signature' }];
    case 'rating':
      return job.rating ? [] : [{ key: 'evidence.need_rating' }];
    case 'notice':
      return job.notices.length ? [] : [{ key: 'evidence.need_notice' }];
    case 'checkpoints': // only the backend knows which readings count for this round
    case 'contact_card':
    case 'confirm':
      return [];
  }
}

/** The StepEvidence payload for complete_step. */
export function toEvidence(step: StepView, draft: EvidenceDraft, position: Position | null): StepEvidence {
  const readings: Reading[] = [];
  for (const spec of step.evidence) {
    if (spec.type !== 'readings') continue;
    for (const r of spec.specs) {
      const value = parseReading(draft.readings[r.key] ?? '');
      if (value !== null) readings.push({ key: r.key, value, unit: r.unit });
    }
  }
  const text: Record<string, string> = {};
  for (const [k, v] of Object.entries(draft.text)) text[k] = v.trim();
  const states: Record<string, string> = {};
  for (const [k, v] of Object.entries(draft.states)) if (v) states[k] = v;
  return { text, states, readings, position };
}

/** A step that records where the technician is (arrival) sends the position when it can get one. */
export function wantsPosition(step: StepView): boolean {
  return step.id === 'arrive';
}
