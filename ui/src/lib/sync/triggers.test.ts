import { describe, expect, it } from 'vitest';
import { FakeBackend } from '../backend/fake';
import { wakeSyncOnReturn, type WakeTargets } from './triggers';

/** Event targets standing in for the window and the document, with a settable visibility. */
function targets() {
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
  const t: WakeTargets = { window: win, document: doc };
  return {
    ...t,
    online: () => win.dispatchEvent(new Event('online')),
    visibility: (v: DocumentVisibilityState) => {
      doc.visibilityState = v;
      doc.dispatchEvent(new Event('visibilitychange'));
    },
  };
}

const syncs = (b: FakeBackend) => b.calls.filter((c) => c.command === 'sync_now').length;

describe('wakeSyncOnReturn', () => {
  it('syncs when the network comes back and when the app returns to the foreground, once per quiet spell', async () => {
    const backend = new FakeBackend({ signedIn: true, demo: true });
    const t = targets();
    let clock = 0;
    const stop = wakeSyncOnReturn(backend, t, 5_000, () => clock);

    t.online();
    expect(syncs(backend), 'the network came back').toBe(1);
    t.online();
    expect(syncs(backend), 'a flapping network wakes it once').toBe(1);

    clock = 6_000;
    t.visibility('hidden');
    expect(syncs(backend), 'going to the background is no reason to sync').toBe(1);
    t.visibility('visible');
    expect(syncs(backend), 'back in the foreground').toBe(2);

    stop();
    clock = 20_000;
    t.online();
    t.visibility('visible');
    expect(syncs(backend), 'nothing after stop').toBe(2);
  });

  it('the queued records go when the network comes back', async () => {
    const backend = new FakeBackend({ signedIn: true, demo: true, online: false });
    await backend.addPhoto('job-repair-2', 'diagnose_repair', new Uint8Array([0xff, 0xd8, 0xff, 0]));
    await backend.addPhoto('job-repair-2', 'diagnose_repair', new Uint8Array([0xff, 0xd8, 0xff, 1]));
    await backend.completeStep('job-repair-2', 'diagnose_repair', { text: { fault_found: '阀门堵塞', work_done: '清洗阀芯' }, states: {}, readings: [], position: null });
    expect((await backend.outbox()).some((e) => e.state === 'queued'), 'a record waits offline').toBe(true);
    const t = targets();
    wakeSyncOnReturn(backend, t, 5_000, () => 0);
    backend.setOnline(true);
    t.online();
    await Promise.resolve();
    const outbox = await backend.outbox();
    expect(outbox.filter((e) => e.state === 'queued' || e.state === 'uploading'), 'nothing left waiting').toEqual([]);
  });

  it('a refused wake (not signed in) is no unhandled error', async () => {
    const backend = { syncNow: () => Promise.reject({ code: 'not_signed_in', message: '' }) };
    const t = targets();
    wakeSyncOnReturn(backend, t, 0, () => 0);
    t.online();
    await Promise.resolve();
  });
});
