import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emitLive, liveOpens } from '../api/bus';
import { session } from '../session/session.svelte';
import { START_WAIT_MS, board } from './data.svelte';

const user = { id: 'u', username: 'zhaomin', display_name: '赵敏', role: 'dispatcher' as const, badge_no: '' };
const day = { date: '2026-12-02', from: '', to: '', now: '', field_users: [], jobs: [] };

let asked: string[] = [];

async function settle() {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await vi.advanceTimersByTimeAsync(0);
}

beforeEach(() => {
  vi.useFakeTimers();
  asked = [];
  session.current = { access: 'a', refresh: 'r', user };
  vi.stubGlobal('fetch', async (url: string) => {
    asked.push(url);
    return new Response(JSON.stringify(day), { status: 200, headers: { 'content-type': 'application/json' } });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

// One file, in order: the live stream's open count is the page's.
describe('the board asks for its day once on the first load, and again after every reconnect', () => {
  it('without a stream yet: waits for it to open, then asks once', async () => {
    expect(liveOpens()).toBe(0);
    const stop = board.start();
    await settle();
    expect(asked, 'nothing before the stream opens').toEqual([]);
    emitLive({ kind: 'opened' });
    board.opened();
    await settle();
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('/api/v1/console/board?date=');
    await vi.advanceTimersByTimeAsync(START_WAIT_MS * 2);
    expect(asked, 'the fallback timer does not ask again').toHaveLength(1);
    stop();
  });

  it('after a reconnect: asks again, since what happened while the stream was down is unknown', async () => {
    emitLive({ kind: 'opened' });
    board.opened();
    await settle();
    expect(asked).toHaveLength(1);
  });

  it('shown again while the stream is open: asks at once', async () => {
    const stop = board.start();
    await settle();
    expect(asked).toHaveLength(1);
    stop();
  });
});
