// Where live events go inside the console: the board and an open job page each subscribe.
import type { LiveEvent } from './types';

/** `opened` is sent after every (re)connect: refetch everything shown. */
export type BusEvent = LiveEvent | { kind: 'opened' };

const listeners = new Set<(e: BusEvent) => void>();

export function onLive(f: (e: BusEvent) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function emitLive(e: BusEvent) {
  for (const f of listeners) f(e);
}
