import { describe, expect, it } from 'vitest';
import { IDLE_MINUTES, session } from './session.svelte';

describe('idle sign-out', () => {
  it(`signs out after ${IDLE_MINUTES} minutes without activity, and says why`, () => {
    session.current = {
      access: 'a',
      refresh: 'r',
      user: { id: 'u', username: 'zhaomin', display_name: '赵敏', role: 'dispatcher', badge_no: '' },
    };
    const start = Date.now();
    session.touch();
    session.checkIdle(start + (IDLE_MINUTES - 1) * 60_000);
    expect(session.current, 'still signed in a minute before the limit').not.toBeNull();
    session.checkIdle(start + IDLE_MINUTES * 60_000 + 1000);
    expect(session.current, 'signed out at the limit').toBeNull();
    expect(session.notice).toBe('app.idle_signed_out');
  });
});

describe('a session that may only set up a second factor', () => {
  it('is marked when the office says so, keeps the mark across a refresh, and loses it once set up', () => {
    const user = { id: 'u1', username: 'admin', display_name: '管理员', role: 'admin' as const, badge_no: '' };
    session.current = { access: 'a', refresh: 'r', user };
    expect(session.setupOnly).toBe(false);
    session.setSetupOnly(true);
    expect(session.setupOnly).toBe(true);
    const tokens = { access_expires_at: '', device_code: '', last_seq: 0, server_time: '', office_public_key: null };
    session.store({ ...tokens, access_token: 'a2', refresh_token: 'r2', user });
    expect(session.setupOnly, 'a refresh of the same user keeps it').toBe(true);
    session.setSetupOnly(false);
    expect(session.setupOnly).toBe(false);
    session.current = null;
    session.store({ ...tokens, access_token: 'a3', refresh_token: 'r3', user });
    expect(session.setupOnly, 'a fresh sign-in starts unmarked').toBe(false);
  });
});
