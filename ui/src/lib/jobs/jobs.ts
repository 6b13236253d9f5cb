import type { JobKind, JobSummary } from '../backend/types';

export const JOB_KINDS: readonly JobKind[] = [
  'home_repair',
  'heat_theft_inspection',
  'patrol_round',
  'acceptance_inspection',
  'emergency_repair',
];

/** Which screen a job opens: patrol rounds are driven by their checkpoints, the rest by steps. */
export function isCheckpointDriven(kind: JobKind): boolean {
  return kind === 'patrol_round';
}

export function isOpen(job: JobSummary): boolean {
  return !job.closed && !job.cancelled && !job.revoked;
}

function dueKey(job: JobSummary): number {
  if ('due_at' in job.sla && (job.sla.state === 'on_track' || job.sla.state === 'at_risk' || job.sla.state === 'breached')) {
    return Date.parse(job.sla.due_at);
  }
  if (job.window) return Date.parse(job.window.start);
  return Number.MAX_SAFE_INTEGER;
}

/** Today's list order: urgent first, then open jobs by what is due soonest, closed/cancelled last. */
export function sortJobs(jobs: readonly JobSummary[]): JobSummary[] {
  return [...jobs].sort((a, b) => {
    const open = Number(isOpen(b)) - Number(isOpen(a));
    if (open !== 0) return open;
    const urgent = Number(b.urgent) - Number(a.urgent);
    if (urgent !== 0) return urgent;
    return dueKey(a) - dueKey(b);
  });
}
