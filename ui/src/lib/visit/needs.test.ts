import { describe, expect, it } from 'vitest';
import { evidenceNeeds } from './needs';

describe('evidenceNeeds', () => {
  it('names what must be recorded and leaves out optional fields and plain confirmations', () => {
    const label = { zh: '故障情况', en: 'Fault' };
    const needs = evidenceNeeds([
      { type: 'text', key: 'fault', label, required: true, multiline: true },
      { type: 'text', key: 'parts', label: { zh: '配件', en: 'Parts' }, required: false, multiline: false },
      { type: 'photos', min: 2, label: { zh: '照片', en: 'Photos' } },
      { type: 'signature', signer: 'customer' },
      { type: 'confirm', label: { zh: '完成', en: 'Done' } },
    ]);
    expect(needs).toEqual([
      { met: false, label },
      { met: false, label: { zh: '照片', en: 'Photos' }, key: 'needs.photos', values: { min: 2 } },
      { met: false, key: 'needs.signature' },
    ]);
  });
  it('ticks what is already recorded', () => {
    const specs = [
      { type: 'text', key: 'fault', label: { zh: '故障', en: 'Fault' }, required: true, multiline: true },
      { type: 'photos', min: 2, label: { zh: '照片', en: 'Photos' } },
      { type: 'signature', signer: 'customer' },
      { type: 'rating' },
    ] as const;
    const met = evidenceNeeds([...specs], { photos: 2, signed: true, rated: false, notices: 0, checkpointsOpen: 0, text: { fault: ' ' }, states: {} }).map((n) => n.met);
    expect(met).toEqual([false, true, true, false]);
  });
});
