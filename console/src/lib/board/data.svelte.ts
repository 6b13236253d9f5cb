// What the board shows, kept current: the day as the office computes it (`GET /console/board`, one
// request). A live event refetches the day (coalesced: at most one request in flight and one
// queued, however many events arrive); after a (re)connect the day is refetched too, unless it was
// asked for after that (re)connect: so the page's first load, which waits for the live stream to
// open (a moment on the office's network; at most START_WAIT_MS), fetches and draws the day once.
import { tick } from 'svelte';
import { liveOpens } from '../api/bus';
import { session } from '../session/session.svelte';
import { router } from '../router/router.svelte';
import type { BoardView } from '../api/types';
import { dayParam, localDay, utcOffsetMinutes } from './board';

/** Marks on the page's Performance timeline (the load benchmark reads them): the board's answer is
 *  parsed (`board:data`) and the cards it holds are in the document (`board:rendered`). */
function mark(name: string) {
  globalThis.performance?.mark?.(name);
}

/** The longest the first load waits for the live stream to open before it asks anyway. */
export const START_WAIT_MS = 300;

class BoardData {
  // The day in the address (`/?date=YYYY-MM-DD`) survives a reload and can be shared; else today.
  day = $state(dayParam(router.param('date')) ?? localDay(new Date()));
  // Raw: replaced whole on every load, never changed in place, so ~1,000 jobs need no deep proxies.
  view = $state.raw<BoardView | null>(null);
  loading = $state(false);
  error = $state<{ code: string; message: string } | null>(null);
  /** When the board last heard from the office. */
  updatedAt = $state<number | null>(null);
  private inFlight: Promise<void> | null = null;
  private queued = false;
  /** `liveOpens()` when the last request was sent (-1: none yet). */
  private sentAt = -1;

  /** The board is shown: load the day now if the live stream has opened, else once it opens (or
   *  after START_WAIT_MS). Returns the cleanup for the screen's unmount. */
  start(): () => void {
    if (liveOpens() > 0) {
      void this.loadAll();
      return () => {};
    }
    const timer = setTimeout(() => {
      if (this.sentAt < 0) void this.loadAll();
    }, START_WAIT_MS);
    return () => clearTimeout(timer);
  }

  /** The live stream (re)opened: refetch unless the day was asked for since. */
  opened(): void {
    if (this.sentAt < liveOpens()) void this.loadAll();
  }

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
    this.sentAt = liveOpens();
    try {
      const view = await session.api.get<BoardView>(
        `/api/v1/console/board?date=${day}&utc_offset_minutes=${utcOffsetMinutes(day)}`,
      );
      if (day !== this.day) return; // the day changed meanwhile: the queued fetch gets it
      mark('board:data');
      this.view = view;
      void tick().then(() => mark('board:rendered'));
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
    if (router.route.name === 'board') router.go(`/?date=${day}`, true);
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
