import { describe, expect, it } from 'vitest';
import { allStepsFinished, confirmsInline, neighbours, skipReasonValid, stepProgress, stepToShow } from './steps';
import { emptyDraft, toEvidence, validateStep } from './evidence';
import type { JobView, StepStatus, StepView } from '../backend/types';

const step = (id: string, status: StepStatus, over: Partial<StepView> = {}): StepView => ({
  id, title: { zh: id, en: id }, phrase: null, hint: null, evidence: [], status, skippable: true, skip_reason: null, photos: [], ...over,
});
const job = (steps: StepView[], current: string | null): JobView =>
  ({ steps, current_step: current, signature: null, rating: null } as unknown as JobView);

describe('step navigation', () => {
  const j = job([step('appointment', 'done'), step('arrive', 'skipped'), step('identify', 'current'), step('knock_consent', 'pending')], 'identify');

  it('opens the current step by default', () => {
    expect(stepToShow(j, null)?.id).toBe('identify');
  });
  it('lets the technician look back at finished steps', () => {
    expect(stepToShow(j, 'appointment')?.id).toBe('appointment');
  });
  it('never jumps ahead to a pending step', () => {
    expect(stepToShow(j, 'knock_consent')?.id).toBe('identify');
    expect(stepToShow(j, 'no_such_step')?.id).toBe('identify');
  });
  it('shows the last step when everything is finished', () => {
    const done = job([step('a', 'done'), step('b', 'skipped')], null);
    expect(stepToShow(done, null)?.id).toBe('b');
    expect(allStepsFinished(done)).toBe(true);
    expect(allStepsFinished(j)).toBe(false);
  });
  it('links to the previous step and to the next only when it is reachable', () => {
    expect(neighbours(j, 'arrive')).toMatchObject({ prev: { id: 'appointment' }, next: { id: 'identify' } });
    expect(neighbours(j, 'identify').next).toBeNull();
    expect(neighbours(j, 'appointment').prev).toBeNull();
  });
  it('counts skipped steps as finished', () => {
    expect(stepProgress(j.steps)).toEqual({ finished: 2, total: 4 });
  });
  it('confirms from an overview only steps with nothing to enter', () => {
    expect(confirmsInline(step('shift_ready', 'current', { evidence: [{ type: 'confirm', label: { zh: '齐全', en: 'ok' } }] }))).toBe(true);
    expect(confirmsInline(step('checkpoints', 'current', { evidence: [{ type: 'checkpoints' }] }))).toBe(true);
    expect(confirmsInline(step('handover', 'current', { evidence: [{ type: 'text', key: 'handover', label: { zh: '交班', en: 'h' }, required: true, multiline: true }] }))).toBe(false);
  });
  it('needs a real reason to skip', () => {
    expect(skipReasonValid('  ')).toBe(false);
    expect(skipReasonValid('客户不在家')).toBe(true);
  });
});

describe('step evidence validation', () => {
  const repair = step('diagnose_repair', 'current', {
    evidence: [
      { type: 'text', key: 'fault', label: { zh: '故障', en: 'Fault' }, required: true, multiline: true },
      { type: 'text', key: 'parts', label: { zh: '用料', en: 'Parts' }, required: false, multiline: false },
      { type: 'choice', key: 'valve', label: { zh: '阀门', en: 'Valve' }, required: true, options: [{ value: 'open', label: { zh: '开', en: 'open' } }] },
      { type: 'photos', min: 2, label: { zh: '维修前后照片', en: 'Before/after photos' } },
      { type: 'readings', specs: [{ key: 'supply_temp', label_zh: '供水温度', label_en: 'Supply temp', unit: '℃', normal_min: 45, normal_max: 75 }] },
    ],
  });

  it('lists every missing piece of evidence', () => {
    const problems = validateStep(repair, emptyDraft(repair), { signature: null, rating: null, notices: [] });
    expect(problems.map((p) => p.key)).toEqual(['evidence.need_text', 'evidence.need_choice', 'evidence.need_photos', 'evidence.need_reading']);
  });
  it('passes when the required evidence is there and sends trimmed text and parsed readings', () => {
    const withPhotos = { ...repair, photos: [{}, {}] as StepView['photos'] };
    const draft = { text: { fault: ' 阀门堵塞 ', parts: '' }, states: { valve: 'open' }, readings: { supply_temp: '52,5' } };
    expect(validateStep(withPhotos, draft, { signature: null, rating: null, notices: [] })).toEqual([]);
    expect(toEvidence(withPhotos, draft, null)).toEqual({
      text: { fault: '阀门堵塞', parts: '' },
      states: { valve: 'open' },
      readings: [{ key: 'supply_temp', value: 52.5, unit: '℃' }],
      position: null,
    });
  });
  it('needs a signature or a recorded refusal, and a rating, before those steps are confirmed', () => {
    const sig = step('signature', 'current', { evidence: [{ type: 'signature', signer: 'customer' }] });
    expect(validateStep(sig, emptyDraft(sig), { signature: null, rating: null, notices: [] })).toEqual([{ key: 'evidence.need_signature' }]);
    const declined = { state: 'declined', outcome: 'absent', reason: '无人', witness: null } as const;
    expect(validateStep(sig, emptyDraft(sig), { signature: declined, rating: null, notices: [] })).toEqual([]);
    const rating = step('rating', 'current', { evidence: [{ type: 'rating' }] });
    expect(validateStep(rating, emptyDraft(rating), { signature: null, rating: { stars: 5, comment: '', answers: {} }, notices: [] })).toEqual([]);
  });
  it('needs a rectification notice on a notice step (skipping needs a reason instead)', () => {
    const notice = step('notice', 'current', { evidence: [{ type: 'notice' }] });
    expect(validateStep(notice, emptyDraft(notice), { signature: null, rating: null, notices: [] })).toEqual([{ key: 'evidence.need_notice' }]);
    const issued = [{ number: 'ZG-1', deadline: '2026-12-04', requirements: '拆除', follow_up_on: null }];
    expect(validateStep(notice, emptyDraft(notice), { signature: null, rating: null, notices: issued })).toEqual([]);
  });
});
