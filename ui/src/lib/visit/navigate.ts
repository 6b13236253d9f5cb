import type { JobView } from '../backend/types';
import { isCheckpointDriven } from '../jobs/jobs';
import { routeHash } from '../router/routes';

/** Where a job goes next: its current step, its checkpoint list, or the closing screen. */
export function nextHash(job: JobView): string {
  const jobId = job.summary.id;
  if (isCheckpointDriven(job.summary.kind)) return routeHash({ name: 'job', jobId });
  if (job.current_step) return routeHash({ name: 'step', jobId, stepId: job.current_step });
  return routeHash({ name: 'close', jobId });
}
