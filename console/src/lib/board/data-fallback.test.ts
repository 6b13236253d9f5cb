import { afterEach, expect, it, vi } from 'vitest';
import { emitLive } from '../api/bus';
import { session } from '../session/session.svelte';
import { START_WAIT_MS, board } from './data.svelte';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

// Its own file: the page's live stream has not opened here.
it('asks anyway when the live stream does not open, and again once it does', async () => {
  vi.useFakeTimers();
  const asked: string[] = [];
  session.current = {
    access: 'a',
    refresh: 'r',
    user: { id: 'u', username: 'zhaomin', display_name: '赵敏', role: 'dispatcher', badge_no: '' },
  };
  vi.stubGlobal('fetch', async (url: string) => {
    asked.push(url);
    return new Response('{"date":"2026-12-02","jobs":[],"field_users":[]}', { status: 200 });
  });
  board.start();
  await vi.advanceTimersByTimeAsync(START_WAIT_MS - 10);
  expect(asked).toEqual([]);
  await vi.advanceTimersByTimeAsync(20);
  expect(asked).toHaveLength(1);
  // Opened after the day was asked for: an update in between could be missed, so ask again.
  emitLive({ kind: 'opened' });
  board.opened();
  await vi.advanceTimersByTimeAsync(10);
  expect(asked).toHaveLength(2);
});
