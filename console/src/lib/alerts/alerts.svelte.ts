// The console's urgent alerts: fetched at sign-in and after every (re)connect, kept current by the
// live stream, acknowledged from the banner. A new one is also announced with a tone.
import { session } from '../session/session.svelte';
import { ApiError } from '../api/client';
import type { BusEvent } from '../api/bus';
import type { ConsoleAlert } from '../api/types';
import { applyAlertEvent, mergeFetched, openAlerts } from './alerts';

class Alerts {
  list = $state<ConsoleAlert[]>([]);
  error = $state<{ code: string; message: string } | null>(null);
  busy = $state<string | null>(null);
  readonly open = $derived(openAlerts(this.list));

  async load() {
    try {
      const fetched = await session.api.get<ConsoleAlert[]>('/api/v1/console/alerts');
      this.list = mergeFetched(fetched, this.list);
    } catch (e) {
      if (e instanceof ApiError) this.error = { code: e.code, message: e.message };
    }
  }

  heard(e: BusEvent) {
    if (e.kind === 'opened' || e.kind === 'resync') {
      void this.load();
      return;
    }
    const before = this.open.length;
    this.list = applyAlertEvent(this.list, e);
    if (e.kind === 'alert_raised' && this.open.length > before) chime();
  }

  async acknowledge(id: string) {
    this.busy = id;
    this.error = null;
    try {
      const acked = await session.api.post<ConsoleAlert>(`/api/v1/console/alerts/${id}/ack`);
      this.list = applyAlertEvent(this.list, { kind: 'alert_acknowledged', alert: acked });
    } catch (e) {
      if (e instanceof ApiError) {
        this.error = { code: e.code, message: e.message };
        // Someone else was first (409): the list says who.
        if (e.code === 'alert_already_acknowledged') void this.load();
      }
    } finally {
      this.busy = null;
    }
  }
}

/** Three short tones: heard across a dispatch room. A browser may refuse sound before the first
 *  click on the page; the banner is there either way. */
function chime() {
  try {
    const ctx = new AudioContext();
    for (let i = 0; i < 3; i++) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.35);
      osc.stop(ctx.currentTime + i * 0.35 + 0.2);
    }
    setTimeout(() => void ctx.close(), 1500);
  } catch {
    // No audio on this machine.
  }
}

export const alerts = new Alerts();
