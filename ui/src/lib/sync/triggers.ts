// What wakes the sync loop besides a record, "sync now", sign-in and its own timer: the network
// coming back (the WebView's `online` event) and the app returning to the foreground (the page
// becoming visible again; on a phone, the app brought back from the background). Waking is cheap
// (the core's loop runs one pass); a burst of such events wakes it once per `quietMs`.
import type { Backend } from '../backend/backend';

export interface WakeTargets {
  window: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  document: Pick<Document, 'addEventListener' | 'removeEventListener' | 'visibilityState'>;
}

/** Wake the sync loop on `online` and on becoming visible; returns the function that stops it. */
export function wakeSyncOnReturn(
  backend: Pick<Backend, 'syncNow'>,
  targets: WakeTargets = { window, document },
  quietMs = 5_000,
  now: () => number = Date.now,
): () => void {
  let last = -Infinity;
  const wake = () => {
    const t = now();
    if (t - last < quietMs) return;
    last = t;
    // Not signed in, or the office unreachable still: the loop's own status says so.
    backend.syncNow().catch(() => {});
  };
  const onVisible = () => {
    if (targets.document.visibilityState === 'visible') wake();
  };
  targets.window.addEventListener('online', wake);
  targets.document.addEventListener('visibilitychange', onVisible);
  return () => {
    targets.window.removeEventListener('online', wake);
    targets.document.removeEventListener('visibilitychange', onVisible);
  };
}
