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
