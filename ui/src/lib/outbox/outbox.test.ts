import { describe, expect, it } from 'vitest';
import { formatBytes, groupOutbox, photoBytesPending, syncProblem, syncTone, uploadPercent } from './outbox';
import type { ErrorCode, OutboxEntry, SyncStatus } from '../backend/types';
import { ERROR_MESSAGES } from '../backend/errorMessages';

const entry = (seq: number, job: string, state: OutboxEntry['state'], over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  event_id: `e${seq}`, device_seq: seq, job_id: job, job_title: `job ${job}`, others: false, kind: 'step_completed', step: null, step_title: null, recorded_at: '2026-11-27T08:00:00Z',
  state, reason: null, bytes_total: 0, bytes_sent: 0, ...over,
});

describe('groupOutbox', () => {
  const groups = groupOutbox([
    entry(3, 'a', 'acknowledged'),
    entry(1, 'a', 'acknowledged'),
    entry(2, 'b', 'queued'),
    entry(4, 'c', 'rejected', { reason: '不在授权范围' }),
    entry(5, 'b', 'uploading', { bytes_total: 1000, bytes_sent: 250 }),
  ]);
  it('groups by job, rejected first, then pending, then fully acknowledged', () => {
    expect(groups.map((g) => g.job_id)).toEqual(['c', 'b', 'a']);
  });
  it('keeps device order inside a job and counts each state', () => {
    expect(groups[2].entries.map((e) => e.device_seq)).toEqual([1, 3]);
    expect(groups[1].counts).toEqual({ queued: 1, uploading: 1, acknowledged: 0, rejected: 0 });
  });
});

describe('groupOutbox on a shared phone', () => {
  it("puts other users' records in one group that names none of their jobs", () => {
    const groups = groupOutbox([
      entry(1, 'x', 'queued', { others: true, job_title: '' }),
      entry(2, 'y', 'queued', { others: true, job_title: '' }),
      entry(3, 'mine', 'queued'),
    ]);
    expect(groups.map((g) => [g.job_id, g.others, g.job_title])).toEqual([
      ['others', true, ''],
      ['mine', false, 'job mine'],
    ]);
    expect(groups[0].entries.map((e) => e.device_seq)).toEqual([1, 2]);
  });
});

describe('uploadPercent', () => {
  it('follows bytes sent and never exceeds 100', () => {
    expect(uploadPercent({ state: 'uploading', bytes_sent: 250, bytes_total: 1000 })).toBe(25);
    expect(uploadPercent({ state: 'uploading', bytes_sent: 2000, bytes_total: 1000 })).toBe(100);
    expect(uploadPercent({ state: 'queued', bytes_sent: 0, bytes_total: 0 })).toBe(0);
    expect(uploadPercent({ state: 'acknowledged', bytes_sent: 0, bytes_total: 0 })).toBe(100);
  });
  it('keeps an acknowledged record with photos still on the phone short of 100 %: photos pending', () => {
    const e = { state: 'acknowledged' as const, bytes_sent: 300_000, bytes_total: 1_200_000 };
    expect(photoBytesPending(e)).toBe(900_000);
    expect(uploadPercent(e)).toBe(25);
    expect(photoBytesPending({ ...e, bytes_sent: 1_200_000 })).toBe(0);
    expect(uploadPercent({ ...e, bytes_sent: 1_200_000 })).toBe(100);
    expect(photoBytesPending({ ...e, state: 'queued' }), 'the record itself is what waits').toBe(0);
  });
});

describe('syncTone', () => {
  const s = (over: Partial<SyncStatus>): SyncStatus => ({
    online: true, queued: 0, rejected: 0, syncing: false, events_sent: 0, events_total: 0, bytes_sent: 0, bytes_total: 0,
    last_sync_at: null, oldest_pending_at: null, last_error: null, photos_pending: 0, photo_bytes_pending: 0, ...over,
  });
  it('is not "synced" while photos wait, even with every record acknowledged', () => {
    expect(syncTone(s({ photos_pending: 2, photo_bytes_pending: 10 }))).toBe('pending');
  });
  it('says offline before anything else, since nothing can be sent', () => {
    expect(syncTone(null)).toBe('offline');
    expect(syncTone(s({ online: false, queued: 3, rejected: 1 }))).toBe('offline');
  });
  it('surfaces rejected records, then activity, then pending, then synced', () => {
    expect(syncTone(s({ rejected: 1, syncing: true }))).toBe('rejected');
    expect(syncTone(s({ syncing: true, queued: 2 }))).toBe('syncing');
    expect(syncTone(s({ queued: 2 }))).toBe('pending');
    expect(syncTone(s({}))).toBe('synced');
  });
  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(350 * 1024)).toBe('350 KB');
    expect(formatBytes(1.25 * 1024 * 1024)).toBe('1.3 MB');
  });
});

describe('syncProblem', () => {
  const base = {
    online: false, syncing: false, queued: 3, rejected: 0, events_sent: 0, events_total: 0, bytes_total: 0, bytes_sent: 0,
    last_sync_at: null, oldest_pending_at: null, photos_pending: 0, photo_bytes_pending: 0,
  };
  const failing = (code: ErrorCode, message = 'office unreachable: error sending request', local = false) =>
    syncProblem({ ...base, last_error: { code, message, local } }, 'en');
  it('says nothing more than the offline note for a lost connection or a sequence catch-up', () => {
    expect(failing('offline')).toBeNull();
    expect(failing('sequence_gap')).toBeNull();
    expect(syncProblem({ ...base, last_error: null }, 'en')).toBeNull();
    expect(syncProblem(null, 'zh-CN')).toBeNull();
  });
  it('names what the person can do for the failures that need them, without raw transport text', () => {
    expect(failing('office_unavailable')).toEqual({ key: 'office_busy', detail: null });
    expect(failing('unauthorized')).toEqual({ key: 'signed_out', detail: null });
    expect(failing('protocol_mismatch')).toEqual({ key: 'update_app', detail: null });
  });
  it("keeps the office's own words as the detail of a refusal, even with a code this build does not know", () => {
    expect(failing('unknown', 'office refused (403 device_revoked): device revoked')).toEqual({
      key: 'refused',
      detail: 'office refused (403 device_revoked): device revoked',
    });
  });
  it("never blames the office for this phone's storage, and says what the code means in the person's language", () => {
    const full = 'could not store on this device (disk_full): database or disk is full';
    expect(failing('disk_full', full, true)).toEqual({ key: 'local', detail: ERROR_MESSAGES.disk_full.en });
    expect(syncProblem({ ...base, last_error: { code: 'storage', message: full, local: true } }, 'zh-CN')).toEqual({
      key: 'local',
      detail: ERROR_MESSAGES.storage['zh-CN'],
    });
  });
});
