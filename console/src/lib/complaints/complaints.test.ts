import { describe, expect, it } from 'vitest';
import { complaintRequest, countdown, isUrgent, listQuery, officeNow, phoneProblem, validateComplaint, type ComplaintForm } from './complaints';

const form = (over: Partial<ComplaintForm> = {}): ComplaintForm => ({
  kind: 'complaint',
  channel: 'phone',
  callerName: '王秀英',
  callerPhone: '138 0013-8000',
  subject: '暖气不热',
  text: '三次报修仍未解决',
  receivedAt: '',
  jobId: '',
  customer: null,
  ...over,
});

describe('countdown against the office clock', () => {
  const due = '2027-01-06T00:00:00+08:00';
  it('counts whole days, hours and minutes left', () => {
    const now = Date.parse('2027-01-04T21:29:30+08:00');
    expect(countdown(due, now)).toEqual({ overdue: false, days: 1, hours: 2, minutes: 30 });
    expect(isUrgent(countdown(due, now))).toBe(false);
    expect(isUrgent(countdown(due, Date.parse('2027-01-05T23:00:00+08:00')))).toBe(true);
  });
  it('is overdue at the deadline itself and counts up after it', () => {
    expect(countdown(due, Date.parse(due)).overdue).toBe(true);
    expect(countdown(due, Date.parse('2027-01-07T03:15:00+08:00'))).toEqual({ overdue: true, days: 1, hours: 3, minutes: 15 });
  });
  it('follows the office clock, not a browser clock set wrong', () => {
    const clock = { office: Date.parse('2027-01-05T12:00:00Z'), local: Date.parse('2020-01-01T00:00:00Z') };
    expect(new Date(officeNow(clock, Date.parse('2020-01-01T00:10:00Z'))).toISOString()).toBe('2027-01-05T12:10:00.000Z');
  });
});

describe('intake form', () => {
  const now = new Date('2027-01-05T12:00:00+08:00');
  it('accepts a complete complaint and builds the request', () => {
    expect(validateComplaint(form(), now)).toEqual({});
    const req = complaintRequest(form({ subject: '  暖气不热 ', jobId: 'j' }), 'id-1');
    expect(req).toMatchObject({ id: 'id-1', subject: '暖气不热', job_id: 'j', received_at: null, kind: 'complaint' });
  });
  it('needs a phone for a complaint, not for an anonymous report', () => {
    expect(validateComplaint(form({ callerPhone: '' }), now).callerPhone).toBe('complaints.err_phone_required');
    expect(validateComplaint(form({ kind: 'report', callerPhone: '', callerName: '' }), now)).toEqual({});
    expect(phoneProblem('1234', false)).toBe('complaints.err_phone');
    expect(phoneProblem('<b>13800</b>', false)).toBe('complaints.err_phone');
  });
  it('bounds texts in characters as the office does', () => {
    expect(validateComplaint(form({ subject: '长'.repeat(100) }), now).subject).toBeUndefined();
    expect(validateComplaint(form({ subject: '长'.repeat(101) }), now).subject).toBe('complaints.err_too_long');
    expect(validateComplaint(form({ text: '   ' }), now).text).toBe('common.required');
    expect(validateComplaint(form({ text: '字'.repeat(4001) }), now).text).toBe('complaints.err_too_long');
  });
  it('refuses a received time ahead of now or over 30 days back', () => {
    expect(validateComplaint(form({ receivedAt: '2027-01-05T18:00' }), now).receivedAt).toBe('complaints.err_received_future');
    expect(validateComplaint(form({ receivedAt: '2026-12-01T09:00' }), now).receivedAt).toBe('complaints.err_received_old');
    expect(validateComplaint(form({ receivedAt: '2027-01-02T09:00' }), now).receivedAt).toBeUndefined();
  });
});

describe('list filters', () => {
  it('asks only for what is set', () => {
    expect(listQuery({ state: 'overdue', kind: '', owner: '' })).toBe('state=overdue');
    expect(listQuery({ state: 'all', kind: 'report', owner: 'u1' })).toBe('state=all&kind=report&owner=u1');
  });
});

describe('routes', async () => {
  const { parse } = await import('../router/router.svelte');
  it('open the tracker, the intake form and a complaint by id', () => {
    expect(parse('/complaints')).toEqual({ name: 'complaints' });
    expect(parse('/complaints/new')).toEqual({ name: 'complaint_new' });
    expect(parse('/complaints/0190F3C2-0000-7000-8000-000000000001')).toEqual({ name: 'complaint', id: '0190f3c2-0000-7000-8000-000000000001' });
    expect(parse('/complaints/not-an-id')).toEqual({ name: 'board' });
  });
});
