// The always-visible sync state. The backend pushes `sync-status` events; a poll every few seconds
// is the fallback for a missed event (e.g. the webview was suspended).
import type { Backend } from '../backend/backend';
import type { SyncStatus } from '../backend/types';

export const SYNC_POLL_MS = 5_000;

export class SyncState {
  status = $state<SyncStatus | null>(null);
  private stop: (() => void) | null = null;

  start(backend: Backend, pollMs = SYNC_POLL_MS): void {
    if (this.stop) return;
    let unlisten: (() => void) | null = null;
    let cancelled = false;
    backend
      .onSyncStatus((s) => (this.status = s))
      .then((u) => (cancelled ? u() : (unlisten = u)))
      .catch(() => {});
    const poll = () =>
      backend
        .syncStatus()
        .then((s) => (this.status = s))
        .catch(() => {});
    poll();
    const timer = setInterval(poll, pollMs);
    this.stop = () => {
      cancelled = true;
      clearInterval(timer);
      unlisten?.();
    };
  }

  set(status: SyncStatus): void {
    this.status = status;
  }

  dispose(): void {
    this.stop?.();
    this.stop = null;
  }
}

export const syncState = new SyncState();
