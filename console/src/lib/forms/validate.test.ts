import { describe, expect, it } from 'vitest';
import { intakeRequest, userRequest, validateIntake, validateOutage, validatePassword, validateUser, validPhone, type IntakeForm } from './validate';
import zh from '../i18n/zh-CN';
import en from '../i18n/en';

const now = new Date(2026, 0, 15, 10, 0);
const good: IntakeForm = {
  name: '王秀英',
  phone: '138 0013 8000',
  address: '幸福里小区 3 号楼 2 单元 501',
  account: 'RL-100234',
  fault: '暖气不热',
  reportedAt: '2026-01-15T09:40',
  windowStart: '2026-01-15T13:00',
  windowEnd: '2026-01-15T15:00',
  assignee: '',
};

describe('phone report', () => {
  it('accepts a complete report', () => {
    expect(validateIntake(good, now)).toEqual({});
  });
  it('requires caller, phone, address and fault', () => {
    const e = validateIntake({ ...good, name: ' ', phone: '', address: '', fault: '' }, now);
    expect(e).toEqual({ name: 'common.required', phone: 'common.required', address: 'common.required', fault: 'common.required' });
  });
  it('refuses phone numbers that are not 7 to 15 digits', () => {
    expect(validPhone('0451-8888 1234')).toBe(true);
    expect(validPhone('+8613800138000')).toBe(true);
    expect(validPhone('12345')).toBe(false);
    expect(validPhone('138-abc-8000')).toBe(false);
    expect(validateIntake({ ...good, phone: '110x' }, now).phone).toBe('valid.phone');
  });
  it('refuses a report time in the future but allows a minute of clock difference', () => {
    expect(validateIntake({ ...good, reportedAt: '2026-01-15T10:30' }, now).reportedAt).toBe('valid.future');
    expect(validateIntake({ ...good, reportedAt: '2026-01-15T10:01' }, now).reportedAt).toBeUndefined();
  });
  it('needs both ends of an appointment, in order', () => {
    expect(validateIntake({ ...good, windowEnd: '' }, now).windowEnd).toBe('valid.window_half');
    expect(validateIntake({ ...good, windowStart: '' }, now).windowStart).toBe('valid.window_half');
    expect(validateIntake({ ...good, windowEnd: '2026-01-15T12:00' }, now).windowEnd).toBe('valid.window');
    expect(validateIntake({ ...good, windowStart: '', windowEnd: '' }, now)).toEqual({});
  });
  it('builds the request the office expects', () => {
    const r = intakeRequest({ ...good, assignee: 'u-1' }, 'id-1');
    expect(r.id).toBe('id-1');
    expect(r.customer).toEqual({ name: '王秀英', phone: '138 0013 8000', address: good.address, account_no: 'RL-100234' });
    expect(r.reported_at).toBe(new Date(2026, 0, 15, 9, 40).toISOString());
    expect(r.window?.end).toBe(new Date(2026, 0, 15, 15, 0).toISOString());
    expect(r.assignee).toBe('u-1');
    expect(intakeRequest(good, 'id-2').assignee).toBeNull();
  });
});

describe('users and outages', () => {
  it('refuses short passwords and usernames with spaces, as the office does', () => {
    const e = validateUser({ username: 'zhang wei', password: '1234567', role: 'repair_technician', display_name: '', badge_no: '' });
    expect(e).toEqual({ username: 'valid.username', password: 'valid.password', display_name: 'common.required' });
  });
  it('counts password characters, not bytes', () => {
    expect(validateUser({ username: 'a', password: '供热供热供热供热', role: 'admin', display_name: '孙丽', badge_no: '' })).toEqual({});
  });
  it('needs restoration after the start of an outage', () => {
    const f = { area: '幸福里', reason: '管网抢修', startsAt: '2026-01-15T08:00', restoreAt: '2026-01-15T07:00' };
    expect(validateOutage(f).restoreAt).toBe('valid.restore');
    expect(validateOutage({ ...f, restoreAt: '2026-01-15T18:00' })).toEqual({});
  });
});

describe('user administration', () => {
  it('checks a reset password as the office does (8 characters, not bytes)', () => {
    expect(validatePassword('')).toBe('valid.password');
    expect(validatePassword('1234567')).toBe('valid.password');
    expect(validatePassword('七个字的密码吗')).toBe('valid.password');
    expect(validatePassword('八个字的密码好了')).toBeUndefined();
    expect(validatePassword('12345678')).toBeUndefined();
  });
  it('refuses a blank name and a blank username, as the office does', () => {
    const e = validateUser({ username: '   ', password: 'long enough', role: 'dispatcher', display_name: '  ', badge_no: '' });
    expect(e).toEqual({ username: 'common.required', display_name: 'common.required' });
  });
  it('sends the fields trimmed, as the office stores them', () => {
    const r = userRequest({ username: ' li_n ', password: ' keep my spaces ', role: 'dispatcher', display_name: ' 李娜 ', badge_no: ' D009 ' });
    expect(r).toEqual({ username: 'li_n', password: ' keep my spaces ', role: 'dispatcher', display_name: '李娜', badge_no: 'D009' });
  });
});

describe('every refusal a form can show', () => {
  const keys = new Set<string>([
    ...Object.values(validateIntake({ ...good, name: '', phone: '12', address: '', fault: '', reportedAt: '2030-01-01T00:00', windowStart: '', windowEnd: '2026-01-15T15:00' }, now)),
    ...Object.values(validateIntake({ ...good, reportedAt: '', windowEnd: '2026-01-15T12:00' }, now)),
    ...Object.values(validateUser({ username: 'a b', password: 'x', role: 'admin', display_name: '', badge_no: '' })),
    ...Object.values(validateUser({ username: '', password: 'x', role: 'admin', display_name: 'x', badge_no: '' })),
    ...Object.values(validateOutage({ area: '', reason: '', startsAt: '', restoreAt: '' })),
    ...Object.values(validateOutage({ area: 'a', reason: 'b', startsAt: '2026-01-15T08:00', restoreAt: '2026-01-15T07:00' })),
  ] as string[]);
  it('covers every message of the validators', () => {
    expect([...keys].sort()).toEqual([
      'common.required', 'valid.future', 'valid.password', 'valid.phone', 'valid.restore', 'valid.username', 'valid.window', 'valid.window_half',
    ]);
  });
  it('reads in Chinese and in English, never as a key', () => {
    for (const key of keys) {
      const z = (zh as Record<string, string>)[key];
      const e = (en as Record<string, string>)[key];
      expect(z, key).toMatch(/[\u4e00-\u9fff]/);
      expect(e, key).toMatch(/^[A-Z][^\u4e00-\u9fff]+$/);
      expect(z).not.toBe(key);
    }
  });
});
