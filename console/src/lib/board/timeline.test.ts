import { describe, expect, it } from 'vitest';
import { summary } from './timeline';

describe('timeline summaries', () => {
  it('show the words and numbers of a record, not its JSON', () => {
    expect(summary({ position: null, readings: [], states: {}, text: {} })).toBe('');
    expect(summary({ text: { note: '已敲门，客户同意入户' }, states: { valve: 'open' } })).toBe('已敲门，客户同意入户 · open');
    expect(summary({ stars: 5, comment: '师傅很专业' })).toBe('stars 5 · 师傅很专业');
  });
  it('leave out attachment bookkeeping and cut long text', () => {
    expect(summary({ photo: { sha256: 'ab', mime: 'image/jpeg', bytes: 3 }, caption: '阀门' })).toBe('阀门');
    expect(summary({ note: 'x'.repeat(300) }).length).toBe(160);
  });
});
