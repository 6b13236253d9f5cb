import { afterEach, describe, expect, it, vi } from 'vitest';
import { SyncState } from './syncStatus.svelte';
import { FakeBackend } from '../backend/fake';

describe('SyncState', () => {
  afterEach(() => vi.useRealTimers());

  it('takes pushed sync-status events and polls as a fallback', async () => {
    vi.useFakeTimers();
    const backend = new FakeBackend({ signedIn: true, demo: true, online: false });
    const poll = vi.spyOn(backend, 'syncStatus');
    const state = new SyncState();
    state.start(backend, 5_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(poll).toHaveBeenCalledTimes(1);
    expect(state.status?.online).toBe(false);

    backend.setOnline(true); // the fake pushes an event
    expect(state.status?.online, 'the event arrives without waiting for a poll').toBe(true);

    await vi.advanceTimersByTimeAsync(15_000);
    expect(poll).toHaveBeenCalledTimes(4);

    state.dispose();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(poll, 'no polling after dispose').toHaveBeenCalledTimes(4);
    backend.setOnline(false);
    expect(state.status?.online, 'no events after dispose').toBe(true);
  });

  it('keeps the last known status when a poll fails', async () => {
    vi.useFakeTimers();
    const backend = new FakeBackend({ signedIn: true, demo: true });
    const state = new SyncState();
    state.start(backend, 1_000);
    await vi.advanceTimersByTimeAsync(0);
    const before = state.status;
    vi.spyOn(backend, 'syncStatus').mockRejectedValue({ code: 'internal', message: 'db busy' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(state.status).toEqual(before);
    state.dispose();
  });
});
