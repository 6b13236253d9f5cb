// What the board shows, kept current: the day as the office computes it (`GET /console/board`, one
// request). A live event refetches the day (coalesced: at most one request in flight and one
// queued, however many events arrive); after a (re)connect the day is refetched too.
import { session } from '../session/session.svelte';
import type { BoardView } from '../api/types';
import { localDay, utcOffsetMinutes } from './board';

class BoardData {
  day = $state(localDay(new Date()));
  // Raw: replaced whole on every load, never changed in place, so ~1,000 jobs need no deep proxies.
  view = $state.raw<BoardView | null>(null);
  loading = $state(false);
  error = $state<{ code: string; message: string } | null>(null);
  /** When the board last heard from the office. */
  updatedAt = $state<number | null>(null);
  private inFlight: Promise<void> | null = null;
  private queued = false;

  /** Refetch the day; a call while a fetch runs queues one more after it (not one per call). */
  loadAll(): Promise<void> {
    if (this.inFlight) {
      this.queued = true;
      return this.inFlight;
    }
    this.inFlight = this.fetchDay().finally(() => {
      this.inFlight = null;
      if (this.queued) {
        this.queued = false;
        void this.loadAll();
      }
    });
    return this.inFlight;
  }

  private async fetchDay() {
    const day = this.day;
    this.loading = true;
    try {
      const view = await session.api.get<BoardView>(
        `/api/v1/console/board?date=${day}&utc_offset_minutes=${utcOffsetMinutes(day)}`,
      );
      if (day !== this.day) return; // the day changed meanwhile: the queued fetch gets it
      this.view = view;
      this.error = null;
      this.updatedAt = Date.now();
    } catch (e) {
      if (day === this.day) this.error = errorOf(e);
    } finally {
      this.loading = false;
    }
  }

  setDay(day: string) {
    if (day === this.day) return;
    this.day = day;
    this.view = null;
    void this.loadAll();
  }
}

export function errorOf(e: unknown): { code: string; message: string } {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    return { code: String((e as { code: unknown }).code), message: String((e as { message: unknown }).message) };
  }
  return { code: 'offline', message: e instanceof Error ? e.message : String(e) };
}

export const board = new BoardData();
