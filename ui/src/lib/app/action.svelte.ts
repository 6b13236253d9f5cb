// Busy flag + last error for one button's backend call: the pattern every form repeats.
import { toBackendError } from '../backend/backend';
import type { BackendError } from '../backend/args';
import { routeOnError } from './session.svelte';

export class Action {
  busy = $state(false);
  error = $state<BackendError | null>(null);

  async run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    this.error = null;
    try {
      return await fn();
    } catch (e) {
      const err = toBackendError(e);
      this.error = err;
      routeOnError(err);
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
