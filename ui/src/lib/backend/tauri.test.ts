// The Tauri backend must speak CONTRACT.md exactly: command names, camelCase argument keys, and photo /
// signature bytes as a raw Uint8Array body with their metadata in headers (never a JSON array).
import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
const listen = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: (...a: unknown[]) => listen(...a) }));

const { TauriBackend } = await import('./tauri');

describe('TauriBackend', () => {
  const b = new TauriBackend();
  beforeEach(() => {
    invoke.mockReset();
    invoke.mockResolvedValue('ok');
  });

  it('sends photo bytes as the raw body with job and step headers', async () => {
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);
    await b.addPhoto('job-1', 'clean_up', bytes);
    expect(invoke).toHaveBeenCalledWith('add_photo', bytes, { headers: { 'x-job-id': 'job-1', 'x-step': 'clean_up' } });
    expect(invoke.mock.calls[0][1]).toBeInstanceOf(Uint8Array);
    // A failed photo taken again names its place in the job's queue.
    await b.addPhoto('job-1', 'clean_up', bytes, null, 7);
    expect(invoke).toHaveBeenLastCalledWith('add_photo', bytes, { headers: { 'x-job-id': 'job-1', 'x-step': 'clean_up', 'x-retake': '7' } });
  });

  it('percent-encodes the signer name header (Chinese names are not valid header bytes)', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    await b.saveSignature('job-1', 'signature', 'customer', '李秀兰', png);
    expect(invoke).toHaveBeenCalledWith('save_signature', png, {
      headers: { 'x-job-id': 'job-1', 'x-step': 'signature', 'x-signer': 'customer', 'x-signer-name': '%E6%9D%8E%E7%A7%80%E5%85%B0' },
    });
  });

  it('stages form photos and signatures as raw bodies without headers', async () => {
    const bytes = new Uint8Array([1]);
    await b.stagePhoto(bytes);
    await b.stageSignature(bytes);
    expect(invoke.mock.calls).toEqual([
      ['stage_photo', bytes, undefined],
      ['stage_signature', bytes, undefined],
    ]);
  });

  it('uses the contract command names and camelCase keys', async () => {
    const evidence = { text: {}, states: {}, readings: [], position: null };
    await b.login('https://o.cn', 'zhangwei', 'pw');
    await b.setLanguage('en');
    await b.job('j');
    await b.completeStep('j', 'arrive', evidence);
    await b.skipStep('j', 'shoe_covers', '客户家无需');
    await b.declineSignature('j', 'signature', 'absent', '无人在家', null);
    await b.giveRating('j', 5, '好');
    await b.issueNotice('j', '2026-12-04', '拆除私接管道', '2026-12-06');
    await b.recordReading('j', 'cp', [{ key: 'supply_temp', value: 70, unit: '℃' }], '');
    await b.closeJob('j', 'resolved', '');
    await b.thumbnail('abc');
    await b.syncNow();
    expect(invoke.mock.calls.map((c) => [c[0], c[1]])).toEqual([
      ['login', { office: 'https://o.cn', username: 'zhangwei', password: 'pw' }],
      ['set_language', { lang: 'en' }],
      ['job', { jobId: 'j' }],
      ['complete_step', { jobId: 'j', step: 'arrive', evidence }],
      ['skip_step', { jobId: 'j', step: 'shoe_covers', reason: '客户家无需' }],
      ['decline_signature', { jobId: 'j', step: 'signature', outcome: 'absent', reason: '无人在家', witness: null }],
      ['give_rating', { jobId: 'j', stars: 5, comment: '好' }],
      ['issue_notice', { jobId: 'j', deadline: '2026-12-04', requirements: '拆除私接管道', followUpOn: '2026-12-06' }],
      ['record_reading', { jobId: 'j', checkpoint: 'cp', readings: [{ key: 'supply_temp', value: 70, unit: '℃' }], note: '' }],
      ['close_job', { jobId: 'j', resolution: 'resolved', summary: '' }],
      ['thumbnail', { sha256: 'abc' }],
      ['sync_now', undefined],
    ]);
  });

  it('sends the opinion form and corrections under the contract names', async () => {
    const answers = { punctuality: 'on_time', attitude: 'good', tidiness: 'yes', gifts: 'none' };
    await b.giveOpinion('j', { stars: 4, comment: '好', answers });
    await b.correctRecord('j', { corrects: 'e1', reason: '写错了', replacement: { text: { fault_found: '温控阀损坏' }, readings: [] } });
    await b.correctableRecords('j');
    expect(invoke.mock.calls.map((c) => [c[0], c[1]])).toEqual([
      ['give_opinion', { jobId: 'j', opinion: { stars: 4, comment: '好', answers } }],
      ['correct_record', { jobId: 'j', correction: { corrects: 'e1', reason: '写错了', replacement: { text: { fault_found: '温控阀损坏' }, readings: [] } } }],
      ['correctable_records', { jobId: 'j' }],
    ]);
  });

  it('rejects with {code, message}, whatever the IPC layer threw', async () => {
    invoke.mockRejectedValueOnce({ code: 'rating_locked', message: '评价已提交，不能修改' });
    await expect(b.giveRating('j', 3, '')).rejects.toEqual({ code: 'rating_locked', message: '评价已提交，不能修改' });
    invoke.mockRejectedValueOnce('command give_rating not found');
    await expect(b.giveRating('j', 3, '')).rejects.toEqual({ code: 'internal', message: 'command give_rating not found' });
    invoke.mockRejectedValueOnce({ code: 'quota_exceeded', message: '配额已用完' });
    await expect(b.giveRating('j', 3, '')).rejects.toEqual({ code: 'unknown', message: '配额已用完' });
  });

  it('listens to the sync-status event and hands over the payload', async () => {
    const unlisten = () => {};
    listen.mockImplementation(async (_name: string, cb: (e: { payload: unknown }) => void) => {
      cb({ payload: { online: false } });
      return unlisten;
    });
    const seen: unknown[] = [];
    expect(await b.onSyncStatus((s) => seen.push(s))).toBe(unlisten);
    expect(listen.mock.calls[0][0]).toBe('sync-status');
    expect(seen).toEqual([{ online: false }]);
  });
});
