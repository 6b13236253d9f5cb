import { describe, expect, it } from 'vitest';
import { evidenceNeeds } from './needs';

describe('evidenceNeeds', () => {
  it('names what must be recorded and leaves out optional fields and plain confirmations', () => {
    const label = { zh: '故障情况', en: 'Fault' };
    const needs = evidenceNeeds([
      { type: 'text', key: 'fault', label, required: true, multiline: true },
      { type: 'text', key: 'parts', label: { zh: '配件', en: 'Parts' }, required: false, multiline: false },
      { type: 'photos', min: 2, label: { zh: '照片', en: 'Photos' } },
      { type: 'signature' },
      { type: 'confirm', label: { zh: '完成', en: 'Done' } },
    ]);
    expect(needs).toEqual([
      { label },
      { label: { zh: '照片', en: 'Photos' }, key: 'needs.photos', values: { min: 2 } },
      { key: 'needs.signature' },
    ]);
  });
});
