// Live updates from `GET /api/v1/live` (server-sent events). Read over fetch rather than EventSource
// so the bearer token goes in a header, not the URL. After every (re)connect `opened` runs: the board
// refetches everything then, so a drop misses nothing; after that each event names what changed.
import type { Api } from './client';
import type { LiveEvent } from './types';

export interface LiveHandlers {
  opened(): void;
  event(e: LiveEvent): void;
  closed(): void;
}

/** Parse a chunk stream of `text/event-stream` into the data of each event. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  /** Feed decoded text; returns the data of every event completed by it. */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      const sep = this.buffer.startsWith('\r\n', nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + sep);
      if (line === '') {
        if (this.data.length) out.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(5).replace(/^ /, ''));
      }
      // `event:`, `id:`, `retry:` and `:` comments (keep-alives) carry nothing we use.
    }
    return out;
  }
}

/** Backoff before reconnect attempt `n` (0-based): 1 s, 2 s, 4 s, then 5 s. */
export function reconnectDelay(n: number): number {
  return Math.min(1000 * 2 ** n, 5000);
}

/** Keep a live connection until `stop()`; reconnects after any drop. */
export function connectLive(api: Api, on: LiveHandlers): { stop(): void } {
  let stopped = false;
  let abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  async function run() {
    abort = new AbortController();
    try {
      const resp = await api.stream('/api/v1/live', abort.signal);
      if (!resp.body) throw new Error('no body');
      failures = 0;
      on.opened();
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const data of parser.push(value)) {
          try {
            on.event(JSON.parse(data) as LiveEvent);
          } catch {
            /* a malformed event is skipped; the next resync covers it */
          }
        }
      }
    } catch {
      /* dropped, refused or aborted: reconnect below unless stopped */
    }
    if (stopped) return;
    on.closed();
    timer = setTimeout(run, reconnectDelay(failures++));
  }

  run();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
    },
  };
}
