import { describe, expect, it } from 'vitest';
import type { CorrectableRecord } from '../backend/types';
import { OPINION_FORM } from '../backend/fake-opinion';
import { canSubmit, changedValues, chosen, correctionDraft, unanswered } from './opinion';

const core = import.meta.glob('../../../../crates/rules/data/opinion_form.v1.json', { eager: true, import: 'default' }) as Record<string, unknown>;

describe('the opinion form', () => {
  it('is the rules crate’s own form (the fake keeps a copy)', () => {
    const forms = Object.values(core);
    expect(forms, 'crates/rules/data/opinion_form.v1.json').toHaveLength(1);
    expect(OPINION_FORM).toEqual(forms[0]);
  });
  it('asks about punctuality, manner, shoe covers and tidiness, and gifts (不准接受用户的任何酬谢)', () => {
    expect(OPINION_FORM.map((q) => q.key)).toEqual(['punctuality', 'attitude', 'tidiness', 'gifts']);
    expect(chosen(OPINION_FORM, 'gifts', { gifts: 'accepted' })).toMatchObject({ concern: true });
  });
  it('submits only with stars and every answer', () => {
    const all = { punctuality: 'on_time', attitude: 'good', tidiness: 'yes', gifts: 'none' };
    expect(canSubmit(OPINION_FORM, all, 0)).toBe(false);
    expect(canSubmit(OPINION_FORM, { ...all, gifts: 'a little' }, 5)).toBe(false);
    expect(unanswered(OPINION_FORM, { attitude: 'good' }).map((q) => q.key)).toEqual(['punctuality', 'tidiness', 'gifts']);
    expect(canSubmit(OPINION_FORM, all, 5)).toBe(true);
  });
});

describe('a correction', () => {
  const record: CorrectableRecord = {
    event_id: 'e1', kind: 'step_completed', step: 'diagnose_repair', checkpoint: null, finding_id: null, recorded_at: '2026-12-01T09:00:00Z',
    original: { text: { fault_found: '阀门堵塞', work_done: '清洗' }, readings: [{ key: 'p', value: 0.3, unit: 'MPa' }] },
    current: { text: { fault_found: '阀门堵塞', work_done: '清洗' }, readings: [{ key: 'p', value: 0.3, unit: 'MPa' }] },
    corrections: [],
  };
  it('sends only what changed', () => {
    const d = correctionDraft(record);
    expect(changedValues(record, d)).toBeNull();
    d.text.fault_found = '温控阀损坏';
    d.readings.p = '0.45';
    expect(changedValues(record, d)).toEqual({ text: { fault_found: '温控阀损坏' }, readings: [{ key: 'p', value: 0.45, unit: 'MPa' }] });
    d.readings.p = '0.3';
    expect(changedValues(record, d), 'an unchanged reading is not sent').toEqual({ text: { fault_found: '温控阀损坏' }, readings: [] });
  });
  it('sends a finding’s corrected description', () => {
    const finding: CorrectableRecord = { ...record, kind: 'finding_recorded', step: null, finding_id: 'f1', original: { text: {}, readings: [], description: '铅封破损' }, current: { text: {}, readings: [], description: '铅封破损' } };
    const d = correctionDraft(finding);
    expect(changedValues(finding, d)).toBeNull();
    d.description = '表箱铅封被剪断';
    expect(changedValues(finding, d)).toEqual({ text: {}, readings: [], description: '表箱铅封被剪断' });
  });
  it('sends nothing while a reading does not parse', () => {
    const d = correctionDraft(record);
    d.readings.p = 'abc';
    expect(changedValues(record, d)).toBeNull();
  });
});
