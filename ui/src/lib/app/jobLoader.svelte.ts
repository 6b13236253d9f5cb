// One job's view for a screen: loaded on mount, replaced by whatever each command returns.
import type { Backend } from '../backend/backend';
import type { JobView } from '../backend/types';
import { Action } from './action.svelte';

export class JobLoader {
  job = $state<JobView | null>(null);
  readonly loading = new Action();

  constructor(
    private backend: Backend,
    private jobId: string,
  ) {}

  async load(): Promise<JobView | undefined> {
    const j = await this.loading.run(() => this.backend.job(this.jobId));
    if (j) this.job = j;
    return j;
  }

  set(job: JobView): void {
    this.job = job;
  }
}
