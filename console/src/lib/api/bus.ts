// Where live events go inside the console: the board and an open job page each subscribe.
import type { LiveEvent } from './types';

/** `opened` is sent after every (re)connect: refetch everything shown. */
export type BusEvent = LiveEvent | { kind: 'opened' };

const listeners = new Set<(e: BusEvent) => void>();

export function onLive(f: (e: BusEvent) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** How many times the live stream has opened in this page (0: not yet). */
let opens = 0;
export function liveOpens(): number {
  return opens;
}

export function emitLive(e: BusEvent) {
  if (e.kind === 'opened') opens++;
  for (const f of listeners) f(e);
}
