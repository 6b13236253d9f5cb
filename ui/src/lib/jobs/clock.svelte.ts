// "Now" for countdowns: the device clock corrected by the backend's offset, ticking on each minute
// boundary (a countdown in minutes needs no faster tick, and the battery thanks us).
import { MINUTE_MS, clockOffset } from './time';

export class MinuteClock {
  now = $state(Date.now());
  private offset = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** Called with `Today.now` after each refresh. */
  sync(backendNow: string): void {
    this.offset = clockOffset(backendNow, Date.now());
    this.now = Date.now() + this.offset;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.now = Date.now() + this.offset;
      this.timer = setTimeout(tick, MINUTE_MS - (Date.now() % MINUTE_MS) + 50);
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export const clock = new MinuteClock();
