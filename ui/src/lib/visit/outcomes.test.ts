import { describe, expect, it } from 'vitest';
import { doorProblems, noEntryInput, preferredWindow, type DoorDraft } from './outcomes';

const photo = { sha256: 'ab'.repeat(32), bytes: 10, mime: 'image/jpeg', width: 0, height: 0, taken_at: null, gps: null };
const draft = (over: Partial<DoorDraft> = {}): DoorDraft => ({
  outcome: 'not_home',
  reason: '敲门无人应答',
  doorPhoto: photo,
  witnessName: '',
  witnessPhone: '',
  date: '',
  from: '',
  to: '',
  note: '',
  ...over,
});

describe('the door record', () => {
  it('needs a reason and a door photo; a witness is optional', () => {
    expect(doorProblems(draft())).toEqual([]);
    expect(doorProblems(draft({ reason: ' ', doorPhoto: null }))).toEqual(['reason', 'door_photo']);
    expect(doorProblems(draft({ witnessPhone: '13900000000' })), 'a phone without a name is no witness').toEqual(['witness']);
  });
  it('takes a preferred window only when it is complete and ends after it starts', () => {
    expect(preferredWindow('', '', '')).toBeNull();
    expect(preferredWindow('2026-12-02', '14:00', '')).toBe('invalid');
    expect(preferredWindow('2026-12-02', '16:00', '14:00')).toBe('invalid');
    const w = preferredWindow('2026-12-02', '14:00', '16:00');
    expect(w !== null && w !== 'invalid' && Date.parse(w.end) - Date.parse(w.start)).toBe(2 * 3600_000);
    expect(doorProblems(draft({ date: '2026-12-02', from: '16:00', to: '14:00' }))).toEqual(['window']);
  });
  it('becomes the command argument, with the window as a door request', () => {
    const input = noEntryInput(draft({ witnessName: ' 李物业 ', date: '2026-12-02', from: '14:00', to: '16:00', note: '门上留言' }));
    expect(input.witness).toEqual({ name: '李物业', phone: '' });
    expect(input.reschedule?.channel).toBe('door');
    expect(input.reschedule?.note).toBe('门上留言');
    expect(noEntryInput(draft()).reschedule, 'no window, no request').toBeNull();
  });
});
